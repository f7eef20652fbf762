"""The Shears client: a Python API (`ShearsClient`) and the `shears` command line built on it."""

from shears_client.api_client import ShearsClient
from shears_client.errors import ShearsApiError, ShearsError
from shears_client.watch import WatchResult, watch_job

__all__ = ["ShearsApiError", "ShearsClient", "ShearsError", "WatchResult", "watch_job"]
