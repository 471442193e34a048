"""The registry of protected works: the YAML file format, the media store and the database store."""
