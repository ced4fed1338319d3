"""Command line: serve, migrate, init, demo, tenants, sites, keys."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from granian import Granian
from granian.constants import Interfaces
from rich.console import Console
from rich.table import Table

from sessionscope import tenancy
from sessionscope.auth.secretbox import MasterKeyError, SecretBox, new_master_key
from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.config import PREFIX, ConfigError, Settings, load_settings, parse_setting
from sessionscope.enrich.geo import GeoDatabaseError
from sessionscope.enrich.iplists import IPListError
from sessionscope.enrich.service import Enricher
from sessionscope.model import IssuedKey, KeyKind, Scope, key_view
from sessionscope.runtime import secret_box
from sessionscope.store import open_store
from sessionscope.store.base import Store, StoreError

T = TypeVar("T")
app = typer.Typer(help="Sessionscope: self-hosted session intelligence.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants.", no_args_is_help=True)
sites_app = typer.Typer(help="Sites of a tenant.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(sites_app, name="sites")
app.add_typer(keys_app, name="keys")
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

    async def main() -> T:
        store = open_store(settings.database_url, settings.durability)
        await store.open()
        try:
            await store.migrate()
            return await work(store, settings)
        finally:
            await store.close()

    return asyncio.run(main())


def _box(settings: Settings) -> SecretBox:
    return secret_box(settings)


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Apply pending schema migrations."""

    async def work(store: Store, _: Settings) -> None:
        out.print("schema up to date")

    run_with_store(database_url, work)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Migrate the store, then serve HTTP with Granian."""
    settings = settings_with(host=host, port=port, workers=workers, database_url=database_url)
    run_with_store(settings.database_url, _noop)
    _box(settings)
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
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_access=False,
    ).serve()


@app.command()
def init(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    site: Annotated[str, typer.Option(help="default site slug")],
    origin: Annotated[
        list[str] | None, typer.Option(help="page origin for the publishable key")
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a tenant, its default site and a secret, publishable and HMAC key."""

    async def work(store: Store, settings: Settings) -> tenancy.InitResult:
        return await tenancy.init_tenant(store, _box(settings), tenant, site, origin)

    result = run_with_store(database_url, work)
    if as_json:
        print(json.dumps(asdict(result)))
    else:
        _show_init(result)


def _show_init(result: tenancy.InitResult) -> None:
    out.print(f"[bold]tenant[/] {result.tenant}   [bold]site[/] {result.site} ({result.site_uuid})")
    out.print("These secrets are shown once. Keep them somewhere safe.")
    out.print(f"  secret key       {result.secret_key}")
    out.print(f"  publishable key  {result.publishable_key}")
    out.print(f"  HMAC access key  {result.hmac_access_key}")
    out.print(f"  HMAC secret key  {result.hmac_secret_key}")


@app.command()
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
        return await tenancy.init_tenant(store, _box(current), "demo", "web", origins)

    result = run_with_store(settings.database_url, lambda store, _: work(store, settings))
    Enricher.from_settings(settings)
    if result is None:
        out.print(
            "demo tenant exists; its keys were shown when it was made"
            " (make more with: sessionscope keys create --tenant demo --kind secret)"
        )
    else:
        _show_init(result)
    out.print(f"serving on http://{settings.host}:{settings.port}  (API reference: /docs)")
    _serve(settings)


@tenants_app.command("create")
def tenants_create(tenant: str, database_url: DatabaseUrl = None) -> None:
    """Create a tenant."""
    made = run_with_store(database_url, lambda store, _: tenancy.create_tenant(store, tenant))
    out.print(f"tenant {made.slug} created")


@tenants_app.command("list")
def tenants_list(as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """List tenants."""
    found = run_with_store(database_url, lambda store, _: store.list_tenants())
    _print_rows([msgspec.to_builtins(t) for t in found], as_json, ["slug", "created_at"])


@sites_app.command("create")
def sites_create(
    tenant: str,
    site: str,
    default: Annotated[bool, typer.Option("--default", help="make it the default site")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a site in a tenant (a tenant's first site is its default)."""
    made = run_with_store(
        database_url, lambda store, _: tenancy.create_site(store, tenant, site, default)
    )
    out.print(
        f"site {made.sub_tenant_id} created, uuid {made.uuid}"
        + (" (default)" if made.is_default else "")
    )


@sites_app.command("list")
def sites_list(tenant: str, as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """List a tenant's sites."""
    found = run_with_store(database_url, lambda store, _: store.list_sites(tenant))
    _print_rows(
        [msgspec.to_builtins(s) for s in found],
        as_json,
        ["slug", "uuid", "is_default", "created_at"],
    )


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    kind: Annotated[str, typer.Option(help="secret | publishable | hmac")],
    site: Annotated[str | None, typer.Option(help="bind the key to this site")] = None,
    scopes: Annotated[str | None, typer.Option(help="comma list of read,write,admin")] = None,
    origin: Annotated[
        list[str] | None, typer.Option(help="allowed page origin (publishable)")
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key; its secret is printed now and never again."""
    chosen_kind: KeyKind = _typed(kind, KeyKind, "--kind")
    chosen_scopes: list[Scope] | None = (
        _typed(scopes.split(","), list[Scope], "--scopes") if scopes else None
    )

    async def work(store: Store, settings: Settings) -> IssuedKey:
        box = _box(settings) if chosen_kind == "hmac" else None
        return await tenancy.create_key(
            store,
            box,
            tenant=tenant,
            kind=chosen_kind,
            site=site,
            scopes=chosen_scopes,
            origins=origin,
        )

    issued = run_with_store(database_url, work)
    if as_json:
        print(msgspec.json.encode(issued).decode())
        return
    out.print(f"key {issued.id} ({issued.kind}, scopes {','.join(issued.scopes) or 'none'})")
    for label, value in (
        ("key", issued.key),
        ("access key", issued.access_key),
        ("secret key", issued.secret_key),
    ):
        if value:
            out.print(f"  {label:<11} {value}")
    out.print("Shown once: store it now.")


def _typed(value: Any, kind: Any, option: str) -> Any:
    """Check an option against a Literal type of the model (one error line when wrong)."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise CliFailure(f"{option} {value!r}: {error}") from None


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List keys (never their secrets)."""
    found = run_with_store(database_url, lambda store, _: store.list_keys(tenant))
    rows = [msgspec.to_builtins(key_view(k)) for k in found]
    _print_rows(rows, as_json, ["id", "tenant", "site", "kind", "scopes", "prefix", "revoked_at"])


@keys_app.command("revoke")
def keys_revoke(
    key_id: str,
    tenant: Annotated[str, typer.Option(help="the key's tenant")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key at once."""
    done = run_with_store(
        database_url,
        lambda store, _: store.revoke_key(tenant, key_id, ms_to_rfc3339(now_ms())),
    )
    if not done:
        raise CliFailure(f"no live key {key_id} in tenant {tenant}")
    out.print(f"key {key_id} revoked")


@app.command("master-key")
def master_key() -> None:
    """Print a new random master key for SESSIONSCOPE_MASTER_KEY."""
    print(new_master_key())


def _print_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    out.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return "" if value is None else str(value)


def main() -> None:
    try:
        app()
    except (ConfigError, MasterKeyError, CliFailure, GeoDatabaseError, IPListError) as error:
        err.print(f"sessionscope: {error}")
        sys.exit(2)
    except tenancy.TenancyError as error:
        err.print(f"sessionscope: {error.message}")
        sys.exit(1)
    except StoreError as error:
        err.print(f"sessionscope: store error: {error}")
        sys.exit(1)
