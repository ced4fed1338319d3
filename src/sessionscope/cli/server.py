"""Commands that run the service: migrate, serve, demo, master-key."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from granian import Granian
from granian.constants import Interfaces, Loops

from sessionscope import tenancy
from sessionscope.auth.secretbox import new_master_key
from sessionscope.cli.common import DatabaseUrl, out, run_with_store, settings_with
from sessionscope.cli.demo import local_origins, prepare_demo_page
from sessionscope.cli.tenants import show_init
from sessionscope.config import PREFIX, Settings
from sessionscope.enrich.service import Enricher
from sessionscope.runtime import secret_box
from sessionscope.store.base import Store


def migrate(database_url: DatabaseUrl = None) -> None:
    """Apply pending schema migrations."""

    async def work(store: Store, _: Settings) -> None:
        out.print("schema up to date")

    run_with_store(database_url, work)


def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Migrate the store, then serve HTTP with Granian."""
    settings = settings_with(host=host, port=port, workers=workers, database_url=database_url)
    run_with_store(settings.database_url, _noop)
    secret_box(settings)
    Enricher.from_settings(settings)  # a missing or corrupt data file stops here, not in a worker
    _serve(settings)


async def _noop(_: Store, __: Settings) -> None:
    return None


def _serve(settings: Settings) -> None:
    # Workers build their own settings from the environment: hand the options down.
    os.environ[PREFIX + "DATABASE_URL"] = settings.database_url
    Granian(
        "sessionscope.http.app:create_app",
        factory=True,
        interface=Interfaces.RSGI,  # the app bridges to ASGI itself (http/rsgi.py)
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_access=False,
        # uvloop, not the standard loop: 1.5x the requests per second here (docs/architecture.md).
        loop=Loops.uvloop,
    ).serve()


def demo(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create the demo tenant once (tenant `demo`, site `web`), then serve."""
    settings = settings_with(host=host, port=port, database_url=database_url)

    async def work(store: Store, current: Settings) -> tenancy.InitResult | None:
        if await store.get_tenant("demo") is not None:
            return None
        origins = [f"http://{current.host}:{current.port}", f"http://localhost:{current.port}"]
        return await tenancy.init_tenant(store, secret_box(current), "demo", "web", origins)

    result = run_with_store(settings.database_url, lambda store, _: work(store, settings))
    prepare_demo_page(settings, "demo", "web", local_origins(settings))
    Enricher.from_settings(settings)
    if result is None:
        out.print(
            "demo tenant exists; its keys were shown when it was made"
            " (make more with: sessionscope keys create --tenant demo --kind secret)"
        )
    else:
        show_init(result)
    out.print(f"serving on http://{settings.host}:{settings.port}  (API reference: /docs)")
    _serve(settings)


def master_key() -> None:
    """Print a new random master key for SESSIONSCOPE_MASTER_KEY."""
    print(new_master_key())
