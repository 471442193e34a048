"""Persistence: SQLAlchemy tables and the engine (SQLite by default, PostgreSQL by URL)."""
