"""`shears models ...`: upload a SavedModel (directory or archive) or a .keras file, and list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shears_client.commands.common import (
    JsonFlag,
    LimitOption,
    OffsetOption,
    QuietFlag,
    get_client,
    out,
    print_json,
    print_list,
    print_resource,
)
from shears_client.render import prunable_table

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
