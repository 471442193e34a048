"""Persisted fingerprints and vector search shared by the media signal types."""
