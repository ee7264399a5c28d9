"""A labelled set of real short texts for Comprehend-style answers (issue 19)."""
