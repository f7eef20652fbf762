"""`shears models ...`: upload a SavedModel (directory or archive) or a .keras file, and list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

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
from shears_client.commands.sweeps import parse_sparsities
from shears_client.inputs import parse_training_option
from shears_client.render import prunable_table
from shears_client.sweep_render import sensitivity_table
from shears_client.watch import watch_job

app = typer.Typer(help="Upload and inspect models.", no_args_is_help=True)

FIELDS = [
    "id",
    "name",
    "format",
    "size_bytes",
    "sha256",
    "params_total",
    "params_prunable",
    "created_at",
]
LIST_COLUMNS = {
    "id": "id",
    "name": "name",
    "format": "format",
    "size_bytes": "size",
    "params_total": "params",
}


@app.command()
def upload(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A SavedModel directory, or a .zip/.tar.gz/.keras")],
    name: Annotated[str | None, typer.Option(help="A label for the model.")] = None,
    quiet: QuietFlag = False,
) -> None:
    """Upload a model; a SavedModel directory is archived to .tar.gz first."""
    model = get_client(ctx).upload_model(path, name)
    print_resource("Model", model, FIELDS, quiet)
    if not quiet:
        out.print(prunable_table(model))


@app.command("list")
def list_models(
    ctx: typer.Context, limit: LimitOption = 50, offset: OffsetOption = 0, as_json: JsonFlag = False
) -> None:
    """List your models."""
    print_list("Models", get_client(ctx).list_models(limit, offset), LIST_COLUMNS, as_json)


@app.command()
def show(ctx: typer.Context, model_id: str, as_json: JsonFlag = False) -> None:
    """Show a model: its size, signatures and prunable weights."""
    model = get_client(ctx).get_model(model_id)
    if as_json:
        print_json(model)
        return
    print_resource("Model", model, FIELDS, quiet=False)
    out.print(prunable_table(model))


@app.command()
def delete(ctx: typer.Context, model_id: str) -> None:
    """Delete a model (refused while a queued or running job uses it)."""
    get_client(ctx).delete_model(model_id)
    typer.echo(f"deleted model {model_id}")


@app.command()
def sensitivity(
    ctx: typer.Context,
    model_id: str,
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset's id.")],
    sparsities: Annotated[
        str | None, typer.Option(help="Comma-separated; default 0.5,0.75,0.9,0.95")
    ] = None,
    training: Annotated[
        str | None, typer.Option(help="loss, metrics, batch_size, signature: JSON or @file.json")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Wait, then print the table.")] = False,
    quiet: QuietFlag = False,
) -> None:
    """Prune each weight alone by magnitude at each sparsity (no fine-tuning) and measure the
    accuracy it costs; prints the job id, or with --watch the table and suggested hparams."""
    client = get_client(ctx)
    body: dict[str, Any] = {"dataset_id": dataset}
    if sparsities:
        body["sparsities"] = parse_sparsities(sparsities)
    if training:
        body["training"] = parse_training_option(training)
    job = client.submit_sensitivity(model_id, body)
    typer.echo(job["id"]) if quiet else err.print(f"sensitivity job {job['id']} queued")
    if not watch:
        return
    result = watch_job(client, job["id"], err)
    if not result.succeeded:
        typer.echo(f"error: {result.error_line()}", err=True)
        raise typer.Exit(1)
    metrics = client.job_metrics(job["id"])
    out.print(sensitivity_table(metrics))
    out.print("suggested hparams (pass them to a job or a sweep):", highlight=False)
    print_json(metrics["suggested_hparams"])
