"""The demo page's key: `sessionscope demo-key`, and the step `sessionscope demo` runs."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from sessionscope.cli.common import DatabaseUrl, out, run_with_store, settings_with
from sessionscope.config import PREFIX, Settings
from sessionscope.demo import ensure_demo_key
from sessionscope.runtime import secret_box
from sessionscope.store.base import Store


def local_origins(settings: Settings) -> list[str]:
    """The origins a browser on this machine uses to reach the served demo page."""
    hosts = dict.fromkeys([settings.host, "127.0.0.1", "localhost"])
    return [f"http://{host}:{settings.port}" for host in hosts if host not in ("0.0.0.0", "::")]


def prepare_demo_page(settings: Settings, tenant: str, site: str, origins: list[str]) -> None:
    """Make sure the site has its sealed demo key, and tell the workers which site it is."""

    async def work(store: Store, current: Settings) -> None:
        await ensure_demo_key(store, secret_box(current), tenant, site, origins)

    run_with_store(settings.database_url, work)
    os.environ[PREFIX + "DEMO_SITE"] = f"{tenant}|{site}"


def demo_key(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    site: Annotated[str, typer.Option(help="site slug")],
    origin: Annotated[list[str], typer.Option(help="page origin the demo is served from")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create (or keep) the sealed publishable key that GET /demo puts in its page."""
    settings = settings_with(database_url=database_url)
    prepare_demo_page(settings, tenant, site, origin)
    out.print(
        f"demo key ready for {tenant}|{site}; serve with SESSIONSCOPE_DEMO_SITE='{tenant}|{site}'"
    )
