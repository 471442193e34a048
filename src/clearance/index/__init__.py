"""Persisted index structures shared by the signal types: media fingerprints, vector search, index files."""
