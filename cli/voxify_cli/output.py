"""What commands print: a table for people, `--json` for scripts, errors on stderr with an
exit code that says what kind of failure it was."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from voxify_cli.client import ApiClient, ApiError, Unreachable
from voxify_cli.config import load_profile

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="print the result as JSON, for scripts")]


class Exit(IntEnum):
    """Exit codes, the same for every command (listed in `voxify --help`)."""

    OK = 0
    REFUSED = 1  # the service refused the request (a 4xx answer): fix the input
    USAGE = 2  # the command line itself was wrong
    WORK_FAILED = 3  # the job, sample, clone or batch ended failed, rejected or cancelled
    UNAVAILABLE = 4  # no answer, or a server error: try again later
    TIMED_OUT = 5  # the work did not finish within --timeout


EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 the service refused the request; 2 bad command line; 3 the work "
    "ended failed, rejected or cancelled; 4 service unreachable or server error; 5 timed out."
)


class WorkEnded(Exception):
    """Work a command waited for ended without success."""


class WaitedTooLong(Exception):
    """Work a command waited for was still running at --timeout."""


def api() -> ApiClient:
    return ApiClient(load_profile())


def reports_failures(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the CLI's expected failures into a one-line message and a meaningful exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ApiError as error:
            errors.print(f"[red]error[/red] {error.code}: {error.message}", highlight=False)
            raise typer.Exit(Exit.UNAVAILABLE if error.status >= 500 else Exit.REFUSED) from error
        except Unreachable as error:
            errors.print(f"[red]error[/red] {error}", highlight=False)
            raise typer.Exit(Exit.UNAVAILABLE) from error
        except WorkEnded as error:
            errors.print(f"[red]failed[/red] {error}", highlight=False)
            raise typer.Exit(Exit.WORK_FAILED) from error
        except WaitedTooLong as error:
            errors.print(f"[yellow]timed out[/yellow] {error}", highlight=False)
            raise typer.Exit(Exit.TIMED_OUT) from error

    return run


def emit(data: Any, as_json: bool, columns: list[str] | None = None) -> None:
    """A record or a list of records: JSON for scripts, else a table of `columns`."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    rows = data if isinstance(data, list) else [data]
    keys = columns or sorted({key for row in rows for key in row})
    table = Table(*keys)
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key in keys))
    console.print(table)


def _cell(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)
