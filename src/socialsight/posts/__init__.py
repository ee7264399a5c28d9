"""Canonical posts and one adapter per platform format."""
