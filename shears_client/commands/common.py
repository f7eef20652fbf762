"""What every command shares: the client (built once per invocation), and output that scripts
can rely on (plain ids with --quiet, raw JSON with --json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.console import Console

from shears_client.api_client import ShearsClient
from shears_client.render import details_table, resource_table

# Tables go to stdout; progress bars and errors go to stderr.
out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON response.")]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the id.")]
LimitOption = Annotated[int, typer.Option(min=1, max=1000, help="How many to list.")]
OffsetOption = Annotated[int, typer.Option(min=0, help="How many to skip.")]


@dataclass
class CliState:
    url: str | None = None
    api_key: str | None = None
    # Tests hand in a client over a fake transport; normally it comes from the environment.
    client_factory: Callable[[CliState], ShearsClient] | None = None
    _client: ShearsClient | None = field(default=None, repr=False)

    def client(self, ctx: typer.Context) -> ShearsClient:
        if self._client is None:
            if self.client_factory is not None:
                self._client = self.client_factory(self)
            else:
                self._client = ShearsClient.from_env(self.url, self.api_key)
            ctx.call_on_close(self._client.close)
        return self._client


def get_client(ctx: typer.Context) -> ShearsClient:
    return ctx.ensure_object(CliState).client(ctx)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=False))


def print_resource(kind: str, resource: dict[str, Any], fields: list[str], quiet: bool) -> None:
    """One created or fetched resource: only its id with --quiet, else a table of `fields`."""
    if quiet:
        typer.echo(resource["id"])
        return
    out.print(details_table(kind, {name: resource.get(name) for name in fields}))


def print_list(
    title: str, page: dict[str, Any], columns: dict[str, str], as_json: bool, quiet: bool = False
) -> None:
    if as_json:
        print_json(page)
    elif quiet:
        for row in page.get("data", []):
            typer.echo(row["id"])
    else:
        rows = page.get("data", [])
        out.print(
            resource_table(
                f"{title} ({len(rows)} of {page.get('count', len(rows))})", rows, columns
            )
        )
