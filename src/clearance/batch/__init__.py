"""Batch jobs over datasets and output stores: scrub (clean copy + manifest) and sweep (quarantine)."""
