"""What every command shares: consoles, options, settings, running against a store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from sessionscope.clock import set_offset_ms
from sessionscope.config import Settings, load_settings, parse_setting
from sessionscope.store import open_store
from sessionscope.store.base import Store

T = TypeVar("T")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///path or postgresql://… (default: SESSIONSCOPE_DATABASE_URL)",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


class CliFailure(Exception):
    """Stops the command with one line on stderr."""


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line options on top (validated alike)."""
    settings = load_settings()
    parsed = {
        name: parse_setting(name, str(value))
        for name, value in overrides.items()
        if value is not None
    }
    return settings.with_overrides(**parsed)


def run_with_store(database_url: str | None, work: Callable[[Store, Settings], Awaitable[T]]) -> T:
    settings = settings_with(database_url=database_url)
    set_offset_ms(settings.clock_offset_seconds * 1000)

    async def main() -> T:
        store = open_store(settings.database_url, settings.durability)
        await store.open()
        try:
            await store.migrate()
            return await work(store, settings)
        finally:
            await store.close()

    return asyncio.run(main())


def typed(value: Any, kind: Any, option: str) -> Any:
    """Check an option against a Literal type of the model (one error line when wrong)."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise CliFailure(f"{option} {value!r}: {error}") from None


def print_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(cell(row.get(column)) for column in columns))
    out.print(table)


def cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return "" if value is None else str(value)
