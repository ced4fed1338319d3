"""Commands for the global IP lists: download the public sources, show what is loaded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)

from sessionscope.cli.common import AsJson, CliFailure, err, print_rows, settings_with
from sessionscope.enrich.iplists import IPLists
from sessionscope.enrich.sources import DEFAULT_SOURCES, DEFAULT_TIMEOUT, UpdateReport, update_lists

lists_app = typer.Typer(help="Global IP lists (SESSIONSCOPE_LISTS_DIR).", no_args_is_help=True)

ListsDir = Annotated[
    str | None,
    typer.Option("--lists-dir", help="folder of list files (default: SESSIONSCOPE_LISTS_DIR)"),
]


def lists_folder(option: str | None) -> Path:
    folder = settings_with(lists_dir=option).lists_dir
    if folder is None:
        raise CliFailure("name the lists folder with --lists-dir or SESSIONSCOPE_LISTS_DIR")
    return Path(folder)


def source_urls(pairs: list[str]) -> dict[str, str]:
    """`NAME=URL` options as a mapping; the names must be known sources."""
    urls: dict[str, str] = {}
    for pair in pairs:
        name, equals, url = pair.partition("=")
        if not equals or not url.startswith(("https://", "http://")):
            raise CliFailure(f"--url {pair!r}: expected NAME=https://...")
        urls[_known_source(name.strip(), "--url")] = url.strip()
    return urls


def chosen_sources(names: list[str]) -> list[str]:
    """Source names for `--only`: a source (`aws`) or a list that sources feed (`datacenter`)."""
    chosen: dict[str, None] = {}
    for name in names:
        feeding = [key for key, source in DEFAULT_SOURCES.items() if source.list_name == name]
        for key in feeding or [_known_source(name, "--only")]:
            chosen[key] = None
    return list(chosen)


def _known_source(name: str, option: str) -> str:
    if name not in DEFAULT_SOURCES:
        known = ", ".join(DEFAULT_SOURCES)
        raise CliFailure(f"{option} {name!r}: no such source (known: {known})")
    return name


class DownloadBars:
    """A rich progress bar per source, on stderr, fed by `update_lists`."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, source: str, done: int, total: int | None) -> None:
        task = self.tasks.get(source)
        if task is None:
            task = self.tasks[source] = self.progress.add_task(source, total=total)
        self.progress.update(task, completed=done, total=total)

    def finish(self) -> None:
        for task in self.progress.tasks:
            self.progress.update(task.id, total=task.completed)


@contextmanager
def download_bars() -> Iterator[DownloadBars]:
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        bars = DownloadBars(progress)
        yield bars
        bars.finish()


@lists_app.command("update")
def update(
    lists_dir: ListsDir = None,
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url", metavar="NAME=URL", help="download source NAME from URL (e.g. a mirror)"
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", metavar="NAME", help="only this source (tor, aws, ...) or list (datacenter)"
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds per download")] = DEFAULT_TIMEOUT,
    as_json: AsJson = False,
) -> None:
    """Download the public IP lists, validate them and swap them in atomically.

    A source that fails keeps its previous entries; the exit status is then 1.
    """
    folder = lists_folder(lists_dir)
    urls = source_urls(url or [])
    sources = chosen_sources(only) if only else None
    with download_bars() as bars:
        report = update_lists(folder, progress=bars, urls=urls, only=sources, timeout=timeout)
    show_report(report, as_json)
    if not report.ok:
        for failure in report.failed:
            err.print(f"sessionscope: {failure.source}: {failure.error}", highlight=False)
        err.print(
            f"sessionscope: {len(report.failed)} of {len(report.sources)} sources failed;"
            " their lists keep the previous entries"
        )
        raise typer.Exit(1)


def show_report(report: UpdateReport, as_json: bool) -> None:
    if as_json:
        print(msgspec.json.encode(report).decode())
        return
    sources = [
        {
            "source": r.source,
            "list": r.list_name,
            "result": "ok" if r.ok else "FAILED",
            "entries": r.entries,
            "bytes": r.bytes,
            "error": r.error,
        }
        for r in report.sources
    ]
    print_rows(sources, False, ["source", "list", "result", "entries", "bytes", "error"])
    written = [
        {
            "list": r.name,
            "written": "yes" if r.written else "no (kept)",
            "entries": r.entries if r.written else None,
            "kept sources": r.kept_sources,
            "path": r.path,
        }
        for r in report.lists
    ]
    print_rows(written, False, ["list", "written", "entries", "kept sources", "path"])


@lists_app.command("show")
def show(lists_dir: ListsDir = None, as_json: AsJson = False) -> None:
    """The lists in the folder, as the service loads them: size, source and date."""
    folder = lists_folder(lists_dir)
    lists = IPLists()
    lists.load_dir(folder)
    rows = [msgspec.structs.asdict(info) for info in lists.info()]
    if not rows and not as_json:
        err.print(f"no lists in {folder}")
        return
    print_rows(rows, as_json, ["name", "size", "source", "updated_at", "path"])
