"""`shears sweeps ...`: one pruning job per target sparsity, read back as one table."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.live import Live

from shears_client.api_client import ShearsClient
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
)
from shears_client.errors import ShearsError
from shears_client.inputs import parse_hparams_option, parse_training_option
from shears_client.sweep_render import recommendation_line, sweep_table

app = typer.Typer(help="Prune at several sparsities at once and compare.", no_args_is_help=True)

ENDED = ("succeeded", "failed", "cancelled")
LIST_COLUMNS = {"id": "id", "name": "name", "status": "status", "created_at": "created (UTC)"}


def parse_sparsities(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ShearsError(
            "bad_sparsities", f"--sparsities {text!r}: give numbers like 0.5,0.75,0.9"
        ) from None


def _show(sweep: dict[str, Any]) -> None:
    out.print(sweep_table(sweep))
    out.print(recommendation_line(sweep), highlight=False)


def _watch(client: ShearsClient, sweep_id: str, interval: float) -> None:
    """Redraw the table until every job has ended; exit 1 unless the sweep succeeded."""
    sweep = client.get_sweep(sweep_id)
    with Live(sweep_table(sweep), console=out, auto_refresh=False) as live:
        while sweep["status"] not in ENDED:
            time.sleep(interval)
            sweep = client.get_sweep(sweep_id)
            live.update(sweep_table(sweep), refresh=True)
    out.print(recommendation_line(sweep), highlight=False)
    if sweep["status"] != "succeeded":
        typer.echo(f"error: sweep {sweep_id} {sweep['status']}", err=True)
        raise typer.Exit(1)


IntervalOption = Annotated[float, typer.Option(min=0.2, help="Seconds between redraws.")]


@app.command()
def submit(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", help="The model's id.")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset's id.")],
    sparsities: Annotated[
        str, typer.Option(help="2 to 16 target sparsities, comma-separated: 0.5,0.75,0.9")
    ],
    hparams: Annotated[
        str | None,
        typer.Option(help="Shared hparams: contrib form, a JSON object, or @file.json"),
    ] = None,
    training: Annotated[str | None, typer.Option(help="A JSON object, or @file.json")] = None,
    export: Annotated[
        list[str] | None, typer.Option(help="tflite or tflite_int8; repeat for both.")
    ] = None,
    max_accuracy_drop: Annotated[
        float, typer.Option(help="Points below the unpruned accuracy a recommendation may lose.")
    ] = 1.0,
    name: Annotated[str | None, typer.Option(help="A label for the sweep.")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Redraw the table until done.")] = False,
    interval: IntervalOption = 2.0,
    quiet: QuietFlag = False,
) -> None:
    """Submit a sweep (nothing is queued unless every job is valid); prints its id."""
    client = get_client(ctx)
    body: dict[str, Any] = {
        "model_id": model,
        "dataset_id": dataset,
        "sparsities": parse_sparsities(sparsities),
        "hparams": parse_hparams_option(hparams) or {},
        "training": parse_training_option(training) or {},
        "exports": export or [],
        "max_accuracy_drop": max_accuracy_drop,
    }
    if name:
        body["name"] = name
    sweep = client.submit_sweep(body)
    if quiet:
        typer.echo(sweep["id"])
    else:
        err.print(f"sweep {sweep['id']}: {len(sweep['jobs'])} jobs queued", highlight=False)
    if watch:
        _watch(client, sweep["id"], interval)
    elif not quiet:
        out.print(sweep_table(sweep))


@app.command()
def watch(ctx: typer.Context, sweep_id: str, interval: IntervalOption = 2.0) -> None:
    """Redraw the sweep's table as its jobs finish; exits 1 unless it succeeded."""
    _watch(get_client(ctx), sweep_id, interval)


@app.command()
def show(ctx: typer.Context, sweep_id: str, as_json: JsonFlag = False) -> None:
    """Print the sweep's table, ★ on the recommended job."""
    sweep = get_client(ctx).get_sweep(sweep_id)
    if as_json:
        print_json(sweep)
    else:
        _show(sweep)


@app.command()
def cancel(ctx: typer.Context, sweep_id: str) -> None:
    """Cancel the sweep's queued and running jobs."""
    sweep = get_client(ctx).cancel_sweep(sweep_id)
    typer.echo(f"cancelling sweep {sweep_id} (status: {sweep.get('status', 'unknown')})")


@app.command("list")
def list_sweeps(
    ctx: typer.Context,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
) -> None:
    """List your sweeps, newest first."""
    print_list("Sweeps", get_client(ctx).list_sweeps(limit, offset), LIST_COLUMNS, as_json, quiet)
