"""What /readyz checks: Postgres and Redis answer, and the schema is at the migrations' head."""

from __future__ import annotations

from functools import lru_cache

import redis
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.redis_client import get_redis
from app.core.db.migrate import MIGRATIONS_DIR
from app.core.db.session import get_engine


@lru_cache
def migration_heads() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def check_postgres_and_schema() -> dict[str, str]:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                applied = set(
                    connection.scalars(text("SELECT version_num FROM alembic_version")).all()
                )
            except SQLAlchemyError:
                return {"postgres": "ok", "schema": "no alembic_version table: run the migrations"}
    except SQLAlchemyError as exc:
        return {"postgres": f"unreachable: {type(exc).__name__}", "schema": "unknown"}
    heads = migration_heads()
    if applied != heads:
        return {
            "postgres": "ok",
            "schema": f"at {sorted(applied) or 'nothing'}, head is {sorted(heads)}: "
            "run the migrations",
        }
    return {"postgres": "ok", "schema": "ok"}


def check_redis() -> dict[str, str]:
    try:
        get_redis().ping()
    except redis.RedisError as exc:
        return {"redis": f"unreachable: {type(exc).__name__}"}
    return {"redis": "ok"}


def readiness() -> dict[str, str]:
    return {**check_postgres_and_schema(), **check_redis()}
