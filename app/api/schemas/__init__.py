"""Public request and response schemas, kept apart from the ORM tables in app.core.db.models."""
