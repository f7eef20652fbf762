"""Real Postgres and Redis servers from pip wheels, for `make run` and the test suite."""

from app.devserver.embedded.postgres import EmbeddedPostgres, start_postgres, stop_postgres
from app.devserver.embedded.redis import EmbeddedRedis, start_redis, stop_redis

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "start_postgres",
    "start_redis",
    "stop_postgres",
    "stop_redis",
]
