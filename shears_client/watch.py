"""A job's live progress in the terminal, fed by its SSE stream (API.md, `/v1/jobs/{id}/events`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from shears_client.api_client import ShearsClient
from shears_client.errors import ShearsError
from shears_client.render import fmt_pct
from shears_client.sse import SseEvent


@dataclass
class WatchResult:
    job_id: str
    status: str
    error: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def error_line(self) -> str:
        if not self.error:
            return f"job {self.job_id} {self.status}"
        code, message = self.error.get("code", "error"), self.error.get("message", "")
        return f"job {self.job_id} {self.status}: {code}: {message}"


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_fields(progress: dict[str, Any]) -> dict[str, str]:
    """The progress event's numbers as the bar's text columns show them."""
    loss = progress.get("loss")
    return {
        "loss": "-" if loss is None else f"{loss:.4f}",
        "target": fmt_pct(progress.get("target_sparsity")),
        "achieved": fmt_pct(progress.get("achieved_sparsity")),
        "eta": fmt_eta(progress.get("eta_seconds")),
    }


def new_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("sparsity {task.fields[achieved]} → {task.fields[target]}"),
        TextColumn("ETA {task.fields[eta]}"),
        console=console,
    )


class JobWatcher:
    """Folds a job's events into a progress bar and, at the end, a WatchResult."""

    def __init__(self, job_id: str, progress: Progress) -> None:
        self.job_id = job_id
        self.progress = progress
        fields: dict[str, Any] = progress_fields({})
        self.task: TaskID = progress.add_task("queued", total=None, **fields)
        self.result = WatchResult(job_id=job_id, status="queued")

    def apply(self, event: SseEvent) -> None:
        data = event.json()
        if not isinstance(data, dict):
            return
        if event.event == "progress":
            fields: dict[str, Any] = progress_fields(data)
            step, total = data.get("step") or 0, data.get("total_steps")
            self.progress.update(self.task, completed=step, total=total, **fields)
        elif event.event == "status":
            self._status(data)
        elif event.event == "error":
            self.result.error = data
        elif event.event == "metrics":
            self.result.metrics = data

    def _status(self, data: dict[str, Any]) -> None:
        status = str(data.get("status", "unknown"))
        self.result.status = status
        if isinstance(data.get("error"), dict):
            self.result.error = data["error"]
        self.progress.update(self.task, description=status)
        if status == "succeeded":
            task = self.progress.tasks[self.task]
            if task.total is not None:
                self.progress.update(self.task, completed=task.total)


def watch_job(client: ShearsClient, job_id: str, console: Console | None = None) -> WatchResult:
    """Show the job's progress until it ends; resumes the event stream if the connection drops."""
    with new_progress(console or Console(stderr=True)) as progress:
        watcher = JobWatcher(job_id, progress)
        for event in client.job_events(job_id):
            watcher.apply(event)
    result = watcher.result
    if result.status != "succeeded" and result.error is None:
        result.error = _job_error(client, job_id)
    return result


def _job_error(client: ShearsClient, job_id: str) -> dict[str, Any] | None:
    """The job's recorded error, if the events carried none; the outcome is known either way."""
    try:
        return (client.get_job(job_id) or {}).get("error")
    except ShearsError:
        return None
