"""`shears datasets ...`: upload an .npz of x_train, y_train (and x_val, y_val), and list."""

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
    print_json,
    print_list,
    print_resource,
)

app = typer.Typer(help="Upload and inspect training datasets (.npz).", no_args_is_help=True)

FIELDS = ["id", "name", "size_bytes", "sha256", "n_train", "n_val", "arrays", "created_at"]
LIST_COLUMNS = {
    "id": "id",
    "name": "name",
    "size_bytes": "size",
    "n_train": "train",
    "n_val": "val",
}


@app.command()
def upload(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An .npz with x_train, y_train[, x_val, y_val]")],
    name: Annotated[str | None, typer.Option(help="A label for the dataset.")] = None,
    quiet: QuietFlag = False,
) -> None:
    """Upload a dataset."""
    print_resource("Dataset", get_client(ctx).upload_dataset(path, name), FIELDS, quiet)


@app.command("list")
def list_datasets(
    ctx: typer.Context, limit: LimitOption = 50, offset: OffsetOption = 0, as_json: JsonFlag = False
) -> None:
    """List your datasets."""
    print_list("Datasets", get_client(ctx).list_datasets(limit, offset), LIST_COLUMNS, as_json)


@app.command()
def show(ctx: typer.Context, dataset_id: str, as_json: JsonFlag = False) -> None:
    """Show a dataset: its arrays' shapes and dtypes and the split sizes."""
    dataset = get_client(ctx).get_dataset(dataset_id)
    if as_json:
        print_json(dataset)
    else:
        print_resource("Dataset", dataset, FIELDS, quiet=False)


@app.command()
def delete(ctx: typer.Context, dataset_id: str) -> None:
    """Delete a dataset."""
    get_client(ctx).delete_dataset(dataset_id)
    typer.echo(f"deleted dataset {dataset_id}")
