"""Text analysis, offline: sentiment, entities, key phrases and language (Comprehend-like)."""
