"""Commands for tenants, sites and keys."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import msgspec
import typer

from sessionscope import tenancy
from sessionscope.cli.common import (
    AsJson,
    CliFailure,
    DatabaseUrl,
    out,
    print_rows,
    run_with_store,
    typed,
)
from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.config import Settings
from sessionscope.model import IssuedKey, KeyKind, Scope, key_view
from sessionscope.runtime import secret_box
from sessionscope.store.base import Store

tenants_app = typer.Typer(help="Tenants.", no_args_is_help=True)
sites_app = typer.Typer(help="Sites of a tenant.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)


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
        return await tenancy.init_tenant(store, secret_box(settings), tenant, site, origin)

    result = run_with_store(database_url, work)
    if as_json:
        print(json.dumps(asdict(result)))
    else:
        show_init(result)


def show_init(result: tenancy.InitResult) -> None:
    out.print(f"[bold]tenant[/] {result.tenant}   [bold]site[/] {result.site} ({result.site_uuid})")
    out.print("These secrets are shown once. Keep them somewhere safe.")
    out.print(f"  secret key       {result.secret_key}")
    out.print(f"  publishable key  {result.publishable_key}")
    out.print(f"  HMAC access key  {result.hmac_access_key}")
    out.print(f"  HMAC secret key  {result.hmac_secret_key}")


@tenants_app.command("create")
def tenants_create(tenant: str, database_url: DatabaseUrl = None) -> None:
    """Create a tenant."""
    made = run_with_store(database_url, lambda store, _: tenancy.create_tenant(store, tenant))
    out.print(f"tenant {made.slug} created")


@tenants_app.command("list")
def tenants_list(as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """List tenants."""
    found = run_with_store(database_url, lambda store, _: store.list_tenants())
    print_rows([msgspec.to_builtins(t) for t in found], as_json, ["slug", "created_at"])


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
    print_rows(
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
    chosen_kind: KeyKind = typed(kind, KeyKind, "--kind")
    chosen_scopes: list[Scope] | None = (
        typed(scopes.split(","), list[Scope], "--scopes") if scopes else None
    )

    async def work(store: Store, settings: Settings) -> IssuedKey:
        box = secret_box(settings) if chosen_kind == "hmac" else None
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


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List keys (never their secrets)."""
    found = run_with_store(database_url, lambda store, _: store.list_keys(tenant))
    rows = [msgspec.to_builtins(key_view(k)) for k in found]
    print_rows(rows, as_json, ["id", "tenant", "site", "kind", "scopes", "prefix", "revoked_at"])


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
