"""API tests: the service against real Postgres and Redis."""
