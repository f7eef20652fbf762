"""Messages a worker took and never acknowledged, read from the broker's small unacked set.

Kombu's Redis transport keeps each delivered, unacknowledged message in the `unacked` hash and
its delivery time in the `unacked_index` sorted set, and puts it back in the queue only after
the visibility timeout (longer than the longest job). A worker that dies after taking a message
and before claiming its job leaves that job `queued`, its message sent, for that long. The set
holds at most one message per worker process (late acknowledgement, prefetch of one), so
reading it costs nothing like reading the queue.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import redis

from app.core.queue import PRUNE_TASK

UNACKED_KEY = "unacked"
UNACKED_INDEX_KEY = "unacked_index"


def job_id_of(raw: bytes | str) -> str | None:
    """The job id a stored delivery carries, or None for anything that is not a prune task."""
    try:
        message, _exchange, _routing_key = json.loads(raw)
        if message.get("headers", {}).get("task") != PRUNE_TASK:
            return None
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return args[0] if args and isinstance(args[0], str) else None
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def stranded_deliveries(client: redis.Redis, delivered_before: datetime) -> dict[str, datetime]:
    """Job id -> delivery time of each prune message delivered before `delivered_before` and
    still unacknowledged (the newest delivery when a job has several)."""
    tags = client.zrange(
        UNACKED_INDEX_KEY, 0, delivered_before.timestamp(), byscore=True, withscores=True
    )
    if not tags:
        return {}
    raws = client.hmget(UNACKED_KEY, [tag for tag, _ in tags])
    found: dict[str, datetime] = {}
    for (_tag, score), raw in zip(tags, raws, strict=True):
        job_id = None if raw is None else job_id_of(raw)
        if job_id is not None:
            delivered = datetime.fromtimestamp(score, UTC)
            found[job_id] = max(delivered, found.get(job_id, delivered))
    return found
