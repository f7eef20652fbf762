"""Finished jobs (and their events) written straight into Postgres, so the lists are measured
against a table as big as a busy service's, without running every one of those jobs."""

from __future__ import annotations

from sqlalchemy import text

from app.core.api_keys import tenant_for_key
from app.core.db.session import session_scope

EVENTS_PER_JOB = 5  # queued, running, a progress, metrics, succeeded

JOBS_SQL = """
INSERT INTO jobs (id, tenant_id, model_id, dataset_id, status, hparams, training, warnings,
                  metrics, attempts, cancel_requested, event_seq, created_at, started_at,
                  finished_at, updated_at)
SELECT 'job_seed' || lpad(n::text, 16, '0'), :tenant, :model, :dataset, 'succeeded',
       '{}'::jsonb, '{}'::jsonb, '[]'::jsonb, '{"sparsity": {"achieved": 0.5}}'::jsonb, 1,
       false, :events, t, t, t + interval '1 minute', t + interval '1 minute'
FROM generate_series(1, :rows) AS n,
     LATERAL (SELECT now() - interval '1 day' - n * interval '1 second') AS at(t)
"""
EVENTS_SQL = """
INSERT INTO job_events (job_id, seq, type, data, created_at)
SELECT 'job_seed' || lpad(n::text, 16, '0'), seq,
       CASE seq WHEN 3 THEN 'progress' WHEN 4 THEN 'metrics' ELSE 'status' END,
       '{"seeded": true}'::jsonb, now() - interval '1 day'
FROM generate_series(1, :rows) AS n, generate_series(1, :events) AS seq
"""


def tenant_of_key(api_key: str) -> str:
    with session_scope() as session:
        tenant = tenant_for_key(session, api_key)
        if tenant is None:
            raise RuntimeError("the benchmark's API key has no tenant")
        return tenant.id


def seed_finished_jobs(tenant_id: str, model_id: str, dataset_id: str, rows: int) -> None:
    params = {"tenant": tenant_id, "model": model_id, "dataset": dataset_id, "rows": rows}
    with session_scope() as session:
        session.execute(text(JOBS_SQL), {**params, "events": EVENTS_PER_JOB})
        session.execute(text(EVENTS_SQL), {"rows": rows, "events": EVENTS_PER_JOB})
        session.execute(text("ANALYZE jobs"))
        session.execute(text("ANALYZE job_events"))
