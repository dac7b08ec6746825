"""Storage: SQLAlchemy 2 models, sessions, and the Alembic upgrade the app runs at start-up."""
