"""`shears`: the command-line client. Every failure prints one line (`error: code: message`,
the API's own message when it answered) and exits 1; never a traceback."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from shears_client.commands import datasets, jobs, models, sweeps
from shears_client.commands.common import CliState
from shears_client.errors import ShearsError


class ErrorReportingGroup(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ShearsError as exc:
            typer.echo(f"error: {exc.one_line()}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=ErrorReportingGroup,
    help="Prune TensorFlow models with a Shears service (SHEARS_URL, SHEARS_API_KEY).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(models.app, name="models")
app.add_typer(datasets.app, name="datasets")
app.add_typer(jobs.app, name="jobs")
app.add_typer(sweeps.app, name="sweeps")


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(help="The API's base URL; default $SHEARS_URL, else http://127.0.0.1:8000."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="Default $SHEARS_API_KEY, else the dev key `make run` wrote."),
    ] = None,
) -> None:
    state = ctx.ensure_object(CliState)
    state.url = url or state.url
    state.api_key = api_key or state.api_key


if __name__ == "__main__":
    app()
