"""README sections on the service's own costs (service.json) and the API under load
(service_load.json). Both files are still evolving, so every part is optional: a part the file
lacks is left out, and goals are shown only where the file states them."""

from __future__ import annotations

from typing import Any

from bench.readme_format import (
    Payload,
    Section,
    declared_goals,
    ms,
    ratio,
    table,
    times,
    verdict,
)

MiB = 1024**2
# Job phases as (label, field in the direct run, field in the service run).
JOB_PHASES = [
    ("total wall time", "seconds", "seconds"),
    ("uploads", None, "uploads_seconds"),
    ("queued", None, "queued_seconds"),
    ("start to first step", "start_to_first_step_seconds", "started_to_first_step_seconds"),
    ("first to last step", "first_to_last_step_seconds", "first_to_last_step_seconds"),
    ("last step to done", "last_step_to_exit_seconds", "last_step_to_finished_seconds"),
    ("download", None, "download_seconds"),
]


def _seconds(part: Payload, key: str | None) -> str:
    value = part.get(key) if key else None
    return "—" if value is None else f"{value:.2f}"


def _goal_lines(part: Payload, area: str) -> tuple[list[str], list[str]]:
    verdicts = declared_goals(part)
    lines = [f"- Goal: {goal}: {verdict(met)}." for goal, met in verdicts]
    return lines, [f"{area}: goal not met: {goal}." for goal, met in verdicts if not met]


READ_LABELS = {
    "job_status": "GET /v1/jobs/{id}",
    "jobs_list": "GET /v1/jobs",
    "models_list": "GET /v1/models",
}


def _rate_row(label: str, part: Payload) -> list[Any]:
    return [
        label,
        part["requests_per_second"],
        ms(part["p50_ms"]),
        ms(part["p99_ms"]),
        part["errors"],
    ]


def _request_rates(rates: Payload) -> Section:
    health = rates.get("healthz")
    reads = {name: rates[name] for name in READ_LABELS if name in rates}
    if not health or not reads:
        return Section([])
    rows = [_rate_row("GET /healthz", health)]
    rows += [_rate_row(READ_LABELS[name], part) for name, part in reads.items()]
    over = rates.get("over_healthz", {})
    if "job_status_over_healthz" in rates:  # files written before the lists were measured
        over = {"job_status": rates["job_status_over_healthz"]}
    rows += [
        [
            f"{READ_LABELS[name]} ÷ /healthz",
            ratio(v["requests_per_second"]),
            times(v["p50"]),
            times(v["p99"]),
            "",
        ]
        for name, v in over.items()
    ]
    lines = [
        f"**Requests**: {health['requests']} GETs of each endpoint over keep-alive connections; "
        "each GET /v1/... checks the API key and reads Postgres, /healthz does neither.",
        "",
        *table(["", "requests/s", "p50 ms", "p99 ms", "errors"], rows),
    ]
    goals, shortfalls = _goal_lines(rates, "Requests")
    return Section(lines + ([""] + goals if goals else []), shortfalls)


def _transfers(t: Payload) -> Section:
    if "upload" not in t or "download" not in t:
        return Section([])
    rows = [
        [
            "local file copy",
            _seconds(t["local_copy"], "seconds"),
            t["local_copy"]["mib_per_second"],
            "—",
            "—",
        ]
    ]
    rows += [
        [
            name,
            _seconds(t[name], "seconds"),
            t[name]["mib_per_second"],
            times(t[name]["over_local_copy"]),
            t[name]["api_rss_peak_growth_mib"],
        ]
        for name in ("upload", "download")
    ]
    floor = t.get("postgres_alone", {})
    rows += [
        [
            f"Postgres alone: {name}",
            _seconds(part, "seconds"),
            part["mib_per_second"],
            times(part["over_local_copy"]),
            "—",
        ]
        for name, part in floor.items()
    ]
    lines = [
        f"**Transfers** of a {t['archive_bytes'] / MiB:.0f} MiB SavedModel archive (upload "
        "includes the server's checks and storing it in Postgres):",
        "",
        *table(["", "seconds", "MiB/s", "time ÷ copy", "API peak RSS growth (MiB)"], rows),
        *(
            [
                "",
                '"Postgres alone" is the floor under both while blobs live in Postgres (as '
                "ARCHITECTURE.md has them): the same bytes COPYed into a table of the blob chunks' "
                "shape and read back a chunk per query, straight from psycopg.",
            ]
            if floor
            else []
        ),
    ]
    goals, shortfalls = _goal_lines(t, "Transfers")
    goal = t.get("rss_goal_mib")
    if goal is not None:
        growth = max(t[name]["api_rss_peak_growth_mib"] for name in ("upload", "download"))
        met = growth < goal
        goals.insert(
            0,
            f"- Goal: API RSS growth below {goal} MiB while streaming: "
            f"{verdict(met)} (at most {growth} MiB).",
        )
        shortfalls += [] if met else [f"Transfers: API RSS grew {growth} MiB (goal {goal})."]
    return Section(lines + ([""] + goals if goals else []), shortfalls)


def _job(job: Payload) -> Section:
    direct, service = job.get("direct"), job.get("service")
    if not direct or not service:
        return Section([])
    rows = [
        [label, _seconds(direct, d), _seconds(service, s)]
        for label, d, s in JOB_PHASES
        if (d and d in direct) or (s and s in service)
    ]
    training = job.get("training", {})
    lines = [
        f"**One job** ({training.get('steps', '?')} training steps of the digits CNN) through "
        "the service against the engine's command line (`python -m worker.pruning`), seconds:",
        "",
        *table(["", "command line", "service"], rows),
        "",
        f"- Service overhead: {job['overhead_seconds']:+.1f} s, "
        f"{times(job['service_over_direct'])} the command line's wall time.",
    ]
    goals, shortfalls = _goal_lines(job, "One job")
    return Section(lines + goals, shortfalls)


def service(s: Payload) -> Section:
    parts = [
        _request_rates(s.get("request_rates", {})),
        _transfers(s.get("transfers", {})),
        _job(s.get("job", {})),
    ]
    goals, shortfalls = _goal_lines(s, "Service")
    lines = [line for part in parts if part.lines for line in [*part.lines, ""]]
    return Section(lines + goals, [f for part in parts for f in part.shortfalls] + shortfalls)


def _load_row(load: Payload, polling: Payload, sse: Payload) -> list[Any]:
    errors = polling.get("errors", 0) + sse.get("errors", 0)
    listeners = sse.get("listeners")
    ended = sse.get("listeners_that_saw_the_terminal_event")
    return [
        load.get("pollers", "—"),
        polling["requests_per_second"],
        ms(polling["p50_ms"]),
        ms(polling["p99_ms"]),
        errors,
        "—" if listeners is None else f"{ended} of {listeners}",
        load.get("api_rss_peak_growth_mib", "—"),
    ]


def _during_load(load: Payload) -> list[str]:
    """What else happened during the load, as one bullet of the parts the file holds."""
    job, clauses = load.get("job", {}), []
    if "steps_after" in job:
        clauses.append(
            f"the job trained from step {job.get('steps_before_load')} to {job['steps_after']} "
            f"(then `{job.get('final_status')}`)"
        )
    if "postgres_connections_opened_during_load" in load:
        clauses.append(
            f"Postgres connections opened: {load['postgres_connections_opened_during_load']}"
        )
    cpu = load.get("cpu_seconds_during_load")
    if cpu:
        clauses.append("CPU seconds: " + ", ".join(f"{name} {sec}" for name, sec in cpu.items()))
    return [f"- During the load {'; '.join(clauses)}."] if clauses else []


def service_load(load: Payload) -> Section:
    polling, sse = load["polling"], load.get("sse", {})
    lines = [
        f"Pollers GET /v1/jobs/{{id}} back to back for {load['seconds']:g} s while "
        f"{sse.get('listeners', 'no')} listeners follow the job's event stream and a real job "
        "trains; clients, API, worker, Postgres and Redis share the machine.",
        "",
        *table(
            [
                "pollers",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "SSE listeners that saw the end",
                "API peak RSS growth (MiB)",
            ],
            [_load_row(load, polling, sse)],
        ),
        "",
    ]
    lines += _during_load(load)
    goals, shortfalls = _goal_lines(load, "Under load")
    errors = _load_row(load, polling, sse)[4]
    if errors and not goals:
        shortfalls.append(f"Under load: {errors} requests or streams failed.")
    return Section(lines + goals + [""], shortfalls)
