"""An iterator whose next item is produced in a thread while the caller uses the current one:
a download fetches chunk n+1 from Postgres while chunk n goes to the client, an upload reads and
hashes chunk n+1 while chunk n goes to Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")
_END = object()


def prefetched(source: Iterator[T]) -> Iterator[T]:
    """`source`'s items in order, one ahead; an error `source` raises comes after the items
    before it. Closing this early waits for the one pending item, then closes `source`."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as pool:
        pending = pool.submit(next, source, _END)
        try:
            while (item := pending.result()) is not _END:
                pending = pool.submit(next, source, _END)
                yield cast(T, item)
        finally:
            pending.cancel()
            pool.shutdown(wait=True)
            close = getattr(source, "close", None)
            if close is not None:
                close()
