"""SQLAlchemy 2 models and sessions.

Schema changes go through Alembic (migrations/), never create_all.
"""
