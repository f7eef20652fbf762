"""Client tests read no SHEARS_* setting from the developer's shell."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_shears_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHEARS_URL", "SHEARS_API_KEY", "SHEARS_TIMEOUT", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
