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


def _load_rows(run: Payload) -> list[list[Any]]:
    phases, versus = run["phases"], run["job_over_healthz"]
    rows = [
        [
            run["web_concurrency"],
            name,
            part["requests_per_second"],
            ms(part["p50_ms"]),
            ms(part["p95_ms"]),
            ms(part["p99_ms"]),
            part["api_cpu_ms_per_request"],
            part["errors"],
        ]
        for name, part in (
            ("GET /v1/jobs/{id}", phases["job"]),
            ("GET /healthz", phases["healthz"]),
        )
    ]
    rows.append(
        [
            run["web_concurrency"],
            "job ÷ /healthz",
            ratio(versus["requests_per_second"]),
            times(versus["p50"]),
            "",
            times(versus["p99"]),
            times(versus["api_cpu_per_request"]) if versus.get("api_cpu_per_request") else "",
            "",
        ]
    )
    return rows


def _listener_row(run: Payload) -> list[Any]:
    sse = run["sse"]
    return [
        run["web_concurrency"],
        sse["events_published"]["expected_per_listener"],
        sse["events_received_per_listener"]["min"],
        f"{sse['listeners_missing_an_event']} of {sse['listeners']}",
        sse["events_missed_in_all"],
        f"{sse['listeners_that_saw_the_terminal_event']} of {sse['listeners']}",
        sse["errors"],
    ]


def _cpu_bound(run: Payload) -> str:
    cpu = run["job_over_healthz"]["api_cpu_per_request"]
    return (
        f"- WEB_CONCURRENCY={run['web_concurrency']}: GET /v1/jobs/{{id}} costs the API "
        f"{times(cpu)} the CPU of /healthz; were the API's CPU the only limit, job ÷ /healthz "
        f"would be 1 ÷ {cpu:g} = {ratio(1 / cpu)}."
    )


def service_load(load: Payload) -> Section:
    runs = load["runs"]
    loads = [run["load_average_1m"][when] for run in runs for when in ("before", "after")]
    lines = [
        f"{load['pollers']} pollers GET back to back in phases of {load['seconds_per_phase']:g} s, "
        f"{load['rounds']} rounds of GET /v1/jobs/{{id}} of a running job and of /healthz in "
        f"alternating order, while {load['listeners']} listeners follow the job's event stream "
        "throughout (the job's worker publishes a progress event every "
        f"{load['progress_events_every_seconds']:g} s); clients, API, worker, Postgres and Redis "
        f"share the machine (1-minute load average {min(loads):g} to {max(loads):g}).",
        "",
        *table(
            [
                "API processes",
                "",
                "requests/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "API CPU ms per request",
                "errors",
            ],
            [row for run in runs for row in _load_rows(run)],
        ),
        "",
        "Each listener's event ids against every event the job published (the history Postgres "
        "keeps and every event after the listeners connected):",
        "",
        *table(
            [
                "API processes",
                "events per listener",
                "fewest received",
                "listeners missing an event",
                "events missed",
                "saw the end",
                "errors",
            ],
            [_listener_row(run) for run in runs],
        ),
        "",
    ]
    lines += [_cpu_bound(run) for run in runs if run["job_over_healthz"].get("api_cpu_per_request")]
    goals, shortfalls = [], []
    for run in runs:
        processes = f"WEB_CONCURRENCY={run['web_concurrency']}"
        run_goals, run_shortfalls = _goal_lines(run, f"Under load, {processes}")
        goals += [f"{line.removesuffix('.')} ({processes})." for line in run_goals]
        shortfalls += run_shortfalls
    return Section(lines + goals + [""], shortfalls)
