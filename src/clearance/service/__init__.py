"""The HTTP service: FastAPI routes over the same ``Screener``/``Registry``/``AuditLog`` as the CLI."""
