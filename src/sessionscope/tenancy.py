"""Tenants, sites and keys: the use-cases shared by the CLI and the admin API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import msgspec

from sessionscope.auth.keys import issue_key
from sessionscope.auth.secretbox import SecretBox
from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.model import IssuedKey, KeyKind, Scope, Site, SitePatch, SiteSettings, Tenant
from sessionscope.store.base import Conflict, Store

_SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


class TenancyError(Exception):
    """A tenancy request that cannot be carried out; `code` is stable."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def check_slug(kind: str, slug: str) -> str:
    if not (1 <= len(slug) <= 63 and set(slug) <= _SLUG_CHARS and slug[0] not in "-_"):
        raise TenancyError(
            f"invalid_{kind}",
            f"{kind} {slug!r} must be 1-63 characters of a-z, 0-9, '-' and '_'",
        )
    return slug


async def create_tenant(store: Store, slug: str) -> Tenant:
    tenant = Tenant(slug=check_slug("tenant", slug), created_at=ms_to_rfc3339(now_ms()))
    try:
        await store.create_tenant(tenant)
    except Conflict:
        raise TenancyError("tenant_exists", f"tenant {slug!r} exists already", 409) from None
    return tenant


async def require_tenant(store: Store, slug: str) -> Tenant:
    tenant = await store.get_tenant(slug)
    if tenant is None:
        raise TenancyError("tenant_not_found", f"no tenant {slug!r}", 404)
    return tenant


async def create_site(store: Store, tenant: str, slug: str, default: bool = False) -> Site:
    await require_tenant(store, tenant)
    first = not await store.list_sites(tenant)
    site = Site(
        tenant=tenant,
        slug=check_slug("site", slug),
        uuid=str(uuid.uuid4()),
        is_default=default or first,
        created_at=ms_to_rfc3339(now_ms()),
    )
    try:
        await store.create_site(site)
    except Conflict:
        raise TenancyError("site_exists", f"site {slug!r} exists in {tenant!r}", 409) from None
    return site


async def require_site(store: Store, tenant: str, slug: str) -> Site:
    site = await store.get_site(tenant, slug)
    if site is None:
        raise TenancyError("site_not_found", f"no site {slug!r} in tenant {tenant!r}", 404)
    return site


def changed_settings(current: SiteSettings, changes: dict[str, object]) -> SiteSettings:
    """`current` with `changes` laid over it; unknown or invalid settings are refused."""
    unknown = sorted(set(changes) - set(SiteSettings.__struct_fields__))
    if unknown:
        raise TenancyError("invalid_settings", f"unknown setting {unknown[0]!r}")
    merged = {**msgspec.structs.asdict(current), **changes}
    try:
        return msgspec.convert(merged, SiteSettings)
    except msgspec.ValidationError as error:
        raise TenancyError("invalid_settings", f"settings: {error}") from None


async def update_site(store: Store, tenant: str, slug: str, patch: SitePatch) -> Site:
    site = await require_site(store, tenant, slug)
    if not isinstance(patch.settings, msgspec.UnsetType):
        site.settings = changed_settings(site.settings, patch.settings)
        await store.update_site_settings(tenant, slug, site.settings)
    if patch.default is True:
        await store.set_default_site(tenant, slug)
        site.is_default = True
    return site


def check_origin(origin: str) -> str:
    """An allowed page origin: scheme://host[:port], nothing more."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise TenancyError(
            "invalid_origin", f"origin {origin!r} must look like https://example.com"
        )
    if parts.query or parts.fragment:
        raise TenancyError("invalid_origin", f"origin {origin!r} must not have a query")
    return f"{parts.scheme}://{parts.netloc.lower()}"


async def create_key(
    store: Store,
    box: SecretBox | None,
    *,
    tenant: str,
    kind: KeyKind,
    site: str | None = None,
    scopes: list[Scope] | None = None,
    origins: list[str] | None = None,
) -> IssuedKey:
    await require_tenant(store, tenant)
    if site is not None:
        await require_site(store, tenant, site)
    if kind == "publishable" and scopes:
        raise TenancyError("invalid_scopes", "a publishable key has no scopes: it only collects")
    if kind != "publishable" and origins:
        raise TenancyError("invalid_origins", "only publishable keys have an origin allow-list")
    if kind == "hmac" and box is None:
        raise TenancyError("master_key_missing", "HMAC keys need SESSIONSCOPE_MASTER_KEY", 500)
    allowed = [check_origin(origin) for origin in origins or []]
    record, shown = issue_key(
        tenant=tenant, kind=kind, site=site, scopes=scopes, origins=allowed, box=box
    )
    await store.create_key(record)
    return shown


@dataclass(frozen=True)
class InitResult:
    tenant: str
    site: str
    site_uuid: str
    secret_key: str
    publishable_key: str
    hmac_access_key: str
    hmac_secret_key: str


async def init_tenant(
    store: Store, box: SecretBox, tenant: str, site: str, origins: list[str] | None = None
) -> InitResult:
    """A tenant, its default site and one key of each kind, in one step."""
    await create_tenant(store, tenant)
    made = await create_site(store, tenant, site, default=True)
    secret = await create_key(
        store, box, tenant=tenant, kind="secret", scopes=["read", "write", "admin"]
    )
    publishable = await create_key(
        store, box, tenant=tenant, site=site, kind="publishable", origins=origins
    )
    hmac = await create_key(store, box, tenant=tenant, kind="hmac")
    assert secret.key and publishable.key and hmac.access_key and hmac.secret_key
    return InitResult(
        tenant=tenant,
        site=site,
        site_uuid=made.uuid,
        secret_key=secret.key,
        publishable_key=publishable.key,
        hmac_access_key=hmac.access_key,
        hmac_secret_key=hmac.secret_key,
    )
