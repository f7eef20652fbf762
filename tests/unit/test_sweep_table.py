"""A sweep's status from its jobs' statuses (API.md, Sweeps)."""

from __future__ import annotations

import pytest

from app.api.services.sweep_table import sweep_status


@pytest.mark.parametrize(
    ("statuses", "cancelled", "expected"),
    [
        (["queued", "queued"], False, "queued"),
        (["succeeded", "queued"], False, "running"),
        (["running", "queued"], False, "running"),
        (["queued", "queued"], True, "running"),  # cancelling: not over until the jobs end
        (["succeeded", "failed", "failed"], False, "succeeded"),
        (["failed", "failed"], False, "failed"),
        (["cancelled", "failed"], False, "failed"),
        (["succeeded", "cancelled"], True, "cancelled"),
    ],
)
def test_the_status_of_a_sweep(statuses: list[str], cancelled: bool, expected: str) -> None:
    assert sweep_status(statuses, cancelled) == expected
