"""`shears jobs ...`: submit a pruning job, watch it live, read its metrics, fetch the model."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from shears_client.api_client import ShearsClient
from shears_client.archive import require_empty_dir
from shears_client.commands.common import (
    JsonFlag,
    LimitOption,
    OffsetOption,
    QuietFlag,
    err,
    get_client,
    out,
    print_json,
    print_list,
    print_resource,
)
from shears_client.inputs import parse_hparams_option, parse_training_option
from shears_client.render import metrics_tables, training_line
from shears_client.watch import watch_job

app = typer.Typer(help="Submit, watch and collect pruning jobs.", no_args_is_help=True)

FIELDS = ["id", "name", "status", "created_at", "started_at", "finished_at", "attempts"]
LIST_COLUMNS = {
    "id": "id",
    "name": "name",
    "status": "status",
    "progress": "step",
    "created_at": "created (UTC)",
}


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class DownloadFormat(StrEnum):
    saved_model = "tar.gz"
    keras = "keras"
    tflite = "tflite"
    tflite_int8 = "tflite_int8"


# The file each single-file format is saved as, in the output folder.
SINGLE_FILES = {
    DownloadFormat.keras: "model.keras",
    DownloadFormat.tflite: "model.tflite",
    DownloadFormat.tflite_int8: "model_int8.tflite",
}


def _watch_to_end(client: ShearsClient, job_id: str) -> None:
    """Exit non-zero, with the job's error, unless it succeeded."""
    result = watch_job(client, job_id, err)
    if not result.succeeded:
        typer.echo(f"error: {result.error_line()}", err=True)
        raise typer.Exit(1)
    typer.echo(f"job {job_id} succeeded; see `shears jobs show {job_id}`", err=True)


def _progress_text(job: dict[str, Any]) -> str:
    progress = job.get("progress") or {}
    step, total = progress.get("step"), progress.get("total_steps")
    return f"{step}/{total}" if step is not None and total else "-"


@app.command()
def submit(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", help="The model's id.")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset's id.")],
    hparams: Annotated[
        str | None,
        typer.Option(help="'target_sparsity=0.9,...' (contrib form), a JSON object, or @file.json"),
    ] = None,
    training: Annotated[
        str | None, typer.Option(help="The training config: a JSON object, or @file.json")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A label for the job.")] = None,
    export: Annotated[
        list[str] | None,
        typer.Option("--export", help="A TFLite export: tflite or tflite_int8 (repeatable)."),
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Resubmitting with the same key returns the first job.")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Follow the job until it ends.")] = False,
    quiet: QuietFlag = False,
) -> None:
    """Submit a pruning job; prints its id."""
    client = get_client(ctx)
    job = client.submit_job(
        model,
        dataset,
        hparams=parse_hparams_option(hparams),
        training=parse_training_option(training),
        name=name,
        idempotency_key=idempotency_key,
        exports=export,
    )
    print_resource("Job", job, FIELDS, quiet)
    for warning in job.get("warnings") or []:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    if watch:
        _watch_to_end(client, job["id"])


@app.command()
def watch(ctx: typer.Context, job_id: str) -> None:
    """Follow a job live until it ends; exits 1 if it failed or was cancelled."""
    _watch_to_end(get_client(ctx), job_id)


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this status.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
) -> None:
    """List your jobs, newest first."""
    page = get_client(ctx).list_jobs(status.value if status else None, limit, offset)
    if not as_json:
        page = {**page, "data": [{**job, "progress": _progress_text(job)} for job in page["data"]]}
    print_list("Jobs", page, LIST_COLUMNS, as_json, quiet)


@app.command()
def show(ctx: typer.Context, job_id: str, as_json: JsonFlag = False) -> None:
    """Show a job; once it has succeeded, its metrics as tables."""
    job = get_client(ctx).get_job(job_id)
    if as_json:
        print_json(job)
        return
    print_resource("Job", {**job, "progress": _progress_text(job)}, [*FIELDS, "progress"], False)
    for warning in job.get("warnings") or []:
        out.print(f"warning: {warning}", markup=False, highlight=False)
    if job.get("error"):
        out.print(f"error: {job['error'].get('code')}: {job['error'].get('message')}", markup=False)
    metrics = job.get("metrics")
    if metrics:
        for table in metrics_tables(metrics):
            out.print(table)
        out.print(f"training: {training_line(metrics)}", highlight=False)


@app.command()
def download(
    ctx: typer.Context,
    job_id: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="An empty or new folder.")],
    fmt: Annotated[
        DownloadFormat,
        typer.Option(
            "--format",
            help="tar.gz: the SavedModel, unpacked; keras: model.keras; tflite: model.tflite; "
            "tflite_int8: model_int8.tflite",
        ),
    ] = DownloadFormat.saved_model,
) -> None:
    """Download the pruned model (checked against its sha256) into a folder."""
    client = get_client(ctx)
    if fmt in SINGLE_FILES:
        require_empty_dir(output)
        client.download_job_model(job_id, output / SINGLE_FILES[fmt], fmt.value)
        typer.echo(f"saved the pruned {fmt.value} model to {output / SINGLE_FILES[fmt]}")
        return
    client.download_saved_model(job_id, output)
    typer.echo(f"unpacked the pruned SavedModel into {output}")


@app.command()
def cancel(ctx: typer.Context, job_id: str) -> None:
    """Cancel a queued or running job."""
    job = get_client(ctx).cancel_job(job_id) or {}
    typer.echo(f"cancelling job {job_id} (status: {job.get('status', 'unknown')})")


@app.command()
def metrics(ctx: typer.Context, job_id: str) -> None:
    """Print a succeeded job's metrics JSON."""
    print_json(get_client(ctx).job_metrics(job_id))
