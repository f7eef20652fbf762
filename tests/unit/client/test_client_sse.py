"""SSE parsing, and resuming with Last-Event-ID when the connection drops."""

from __future__ import annotations

import httpx
import pytest

from shears_client.errors import ShearsApiError, ShearsError
from shears_client.sse import SseEvent, SseParser, parse_sse
from tests.unit.client.client_fakes import error_response, make_client, sse_message, sse_response


def test_parser_joins_data_lines_skips_comments_and_keeps_the_last_id() -> None:
    lines = [
        ": keep-alive",
        "",
        "id: 7",
        "event: progress",
        'data: {"step": 1,',
        'data:  "loss": 0.5}',
        "",
        "data: no id or type on this one",
        "",
    ]
    events = list(parse_sse(lines))
    assert events == [
        SseEvent(event="progress", data='{"step": 1,\n "loss": 0.5}', id="7"),
        # The id carries over (WHATWG rule); the type defaults to "message".
        SseEvent(event="message", data="no id or type on this one", id="7"),
    ]
    assert events[0].json() == {"step": 1, "loss": 0.5}


def test_parser_reads_retry_and_ignores_an_event_without_data() -> None:
    parser = SseParser()
    for line in ["retry: 2500", "event: status", ""]:
        assert parser.feed(line) is None
    assert parser.retry_ms == 2500


def _client_with_connections(responses: list[httpx.Response], seen: list[str | None]):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/jobs/j1/events"
        assert request.headers["authorization"] == "Bearer shr_test"
        seen.append(request.headers.get("last-event-id"))
        return responses.pop(0)

    return make_client(handler)


def test_a_dropped_stream_resumes_after_the_last_event_id() -> None:
    seen: list[str | None] = []
    client = _client_with_connections(
        [
            sse_response(
                [sse_message(1, "status", {"status": "running"}), sse_message(2, "progress", {})],
                # Half an event, then the connection dies: the half must not surface.
                then_raise=httpx.RemoteProtocolError("peer closed connection"),
            ),
            sse_response([sse_message(3, "status", {"status": "succeeded"})]),
        ],
        seen,
    )
    events = list(client.job_events("j1"))
    assert [e.id for e in events] == ["1", "2", "3"]
    assert seen == [None, "2"]


def test_a_stream_closed_before_the_terminal_status_reconnects() -> None:
    seen: list[str | None] = []
    client = _client_with_connections(
        [
            sse_response([sse_message(4, "progress", {"step": 3})]),
            sse_response([b": keep-alive\n\n", sse_message(5, "status", {"status": "failed"})]),
        ],
        seen,
    )
    assert [e.event for e in client.job_events("j1", last_event_id="3")] == ["progress", "status"]
    assert seen == ["3", "4"]


def test_the_reader_gives_up_after_repeated_failures_with_a_clear_error() -> None:

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused")

    with pytest.raises(ShearsError) as info:
        list(make_client(handler).job_events("j1"))
    assert info.value.code == "stream_lost"
    assert "Connection refused" in info.value.message


def test_read_timeouts_reconnect_without_giving_up() -> None:
    seen: list[str | None] = []
    timeouts = [sse_response([], then_raise=httpx.ReadTimeout("quiet")) for _ in range(8)]
    client = _client_with_connections(
        [*timeouts, sse_response([sse_message(1, "status", {"status": "cancelled"})])], seen
    )
    assert [e.json()["status"] for e in client.job_events("j1")] == ["cancelled"]
    assert len(seen) == 9


def test_a_missing_job_is_an_api_error_not_a_retry() -> None:
    calls: list[str | None] = []
    client = _client_with_connections(
        [error_response(404, "job_not_found", "job 'j1' does not exist")], calls
    )
    with pytest.raises(ShearsApiError) as info:
        list(client.job_events("j1"))
    assert (info.value.status, info.value.code) == (404, "job_not_found")
    assert len(calls) == 1
