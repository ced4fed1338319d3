"""`sessionscope access …`: a site's access model from the command line.

Definitions are given as JSON (inline, or `@file.json`), exactly the bodies of the admin
API (/v1/access/…), and go through the same checks.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer

from sessionscope.access import admin
from sessionscope.access.errors import AccessError
from sessionscope.access.model import KINDS, AccessDefaults, Definition, GrantCreate
from sessionscope.cli.common import AsJson, CliFailure, DatabaseUrl, out, print_rows, run_with_store
from sessionscope.clock import now_ms
from sessionscope.config import Settings
from sessionscope.store.access_records import GrantFilter
from sessionscope.store.base import Store

T = TypeVar("T")
access_app = typer.Typer(
    help="A site's access model: entitlements, bundles, meters, credits, grants.",
    no_args_is_help=True,
)

Tenant = Annotated[str, typer.Option(help="tenant slug")]
Site = Annotated[str | None, typer.Option(help="site slug (default: the tenant's default)")]
Kind = Annotated[str, typer.Argument(help="entitlements | bundles | meters | credits")]
_PAGE = 500


def _kind(name: str) -> type[Definition]:
    if name not in KINDS:
        raise CliFailure(f"kind {name!r}: expected one of {', '.join(KINDS)}")
    return KINDS[name]


def _definition(kind: type[Definition], text: str) -> Definition:
    """A definition from JSON text, or from the file named after `@`."""
    raw = Path(text[1:]).read_bytes() if text.startswith("@") else text.encode()
    try:
        return msgspec.json.decode(raw, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise CliFailure(f"definition: {error}") from None


def _on_site(
    database_url: str | None,
    tenant: str,
    site: str | None,
    work: Callable[[Store, str], Awaitable[T]],
) -> T:
    """Run `work(store, site slug)` on the named site, or the tenant's default one."""

    async def main(store: Store, _: Settings) -> T:
        found = (
            await store.get_site(tenant, site)
            if site is not None
            else await store.get_default_site(tenant)
        )
        if found is None:
            raise CliFailure(f"no site {site or 'default'!r} in tenant {tenant!r}")
        try:
            return await work(store, found.slug)
        except AccessError as error:
            raise CliFailure(error.message) from None

    return run_with_store(database_url, main)


def _print(value: Any) -> None:
    print(msgspec.json.encode(value).decode())


@access_app.command("list")
def list_definitions(
    kind: Kind,
    tenant: Tenant,
    site: Site = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List a site's definitions of one kind."""
    chosen = _kind(kind)

    async def work(store: Store, slug: str) -> list[Definition]:
        found: list[Definition] = []
        cursor: str | None = None
        while True:
            page, cursor = await admin.list_definitions(store, tenant, slug, chosen, cursor, _PAGE)
            found += page
            if cursor is None:
                return found

    rows = [msgspec.to_builtins(d) for d in _on_site(database_url, tenant, site, work)]
    print_rows(rows, as_json, ["id", "name"])


@access_app.command("show")
def show_definition(
    kind: Kind,
    object_id: Annotated[str, typer.Argument(help="the definition's id")],
    tenant: Tenant,
    site: Site = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print one definition as JSON."""
    chosen = _kind(kind)
    _print(
        _on_site(
            database_url,
            tenant,
            site,
            lambda store, slug: admin.get_definition(store, tenant, slug, chosen, object_id),
        )
    )


@access_app.command("create")
def create_definition(
    kind: Kind,
    definition: Annotated[str, typer.Argument(help="JSON, or @file.json")],
    tenant: Tenant,
    site: Site = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a definition; prints it with its id."""
    body = _definition(_kind(kind), definition)
    _print(
        _on_site(
            database_url,
            tenant,
            site,
            lambda store, slug: admin.create_definition(store, tenant, slug, body, now_ms()),
        )
    )


@access_app.command("replace")
def replace_definition(
    kind: Kind,
    object_id: Annotated[str, typer.Argument(help="the definition's id")],
    definition: Annotated[str, typer.Argument(help="JSON, or @file.json")],
    tenant: Tenant,
    site: Site = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Replace a definition."""
    body = _definition(_kind(kind), definition)
    _print(
        _on_site(
            database_url,
            tenant,
            site,
            lambda store, slug: admin.replace_definition(
                store, tenant, slug, object_id, body, now_ms()
            ),
        )
    )


@access_app.command("delete")
def delete_definition(
    kind: Kind,
    object_id: Annotated[str, typer.Argument(help="the definition's id")],
    tenant: Tenant,
    site: Site = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete a definition nothing else uses."""
    chosen = _kind(kind)
    _on_site(
        database_url,
        tenant,
        site,
        lambda store, slug: admin.delete_definition(store, tenant, slug, chosen, object_id),
    )
    out.print(f"{kind} {object_id} deleted")


@access_app.command("grant")
def grant(
    tenant: Tenant,
    user: Annotated[str, typer.Option(help="the user's id")],
    bundle: Annotated[str, typer.Option(help="the bundle's id")],
    expires_at: Annotated[
        str | None, typer.Option(help="RFC 3339 time the grant ends (default: never)")
    ] = None,
    site: Site = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Grant a bundle to a user; prints the grant."""
    try:
        request = msgspec.convert(
            {"user_id": user, "bundle": bundle, "expires_at": expires_at},
            GrantCreate,
        )
    except msgspec.ValidationError as error:
        raise CliFailure(f"grant: {error}") from None
    _print(
        _on_site(
            database_url,
            tenant,
            site,
            lambda store, slug: admin.grant_bundle(store, tenant, slug, request, now_ms()),
        )
    )


@access_app.command("grants")
def grants(
    tenant: Tenant,
    user: Annotated[str | None, typer.Option(help="only this user's grants")] = None,
    site: Site = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List grants."""

    async def work(store: Store, slug: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            where = GrantFilter(tenant, slug, user_id=user)
            page, cursor = await admin.list_grants(store, where, cursor, _PAGE)
            found += [msgspec.to_builtins(g) for g in page]
            if cursor is None:
                return found

    rows = _on_site(database_url, tenant, site, work)
    print_rows(rows, as_json, ["id", "user_id", "bundle", "expires_at", "created_at"])


@access_app.command("ungrant")
def ungrant(
    grant_id: Annotated[str, typer.Argument(help="the grant's id")],
    tenant: Tenant,
    site: Site = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Take a grant back."""
    _on_site(
        database_url,
        tenant,
        site,
        lambda store, slug: admin.revoke_grant(store, tenant, slug, grant_id),
    )
    out.print(f"grant {grant_id} removed")


@access_app.command("defaults")
def defaults(
    tenant: Tenant,
    anonymous: Annotated[
        str | None, typer.Option(help="default bundle of anonymous visitors ('' for none)")
    ] = None,
    registered: Annotated[
        str | None, typer.Option(help="default bundle of logged-in users ('' for none)")
    ] = None,
    site: Site = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the default bundle of each user state, or change it."""

    async def work(store: Store, slug: str) -> AccessDefaults:
        current = await admin.get_defaults(store, tenant, slug)
        if anonymous is None and registered is None:
            return current
        changed = {
            "anonymous": current.anonymous if anonymous is None else anonymous or None,
            "registered": current.registered if registered is None else registered or None,
        }
        try:
            wanted = msgspec.convert(changed, AccessDefaults)
        except msgspec.ValidationError as error:
            raise CliFailure(f"defaults: {error}") from None
        return await admin.set_defaults(store, tenant, slug, wanted, now_ms())

    print(json.dumps(msgspec.to_builtins(_on_site(database_url, tenant, site, work))))
