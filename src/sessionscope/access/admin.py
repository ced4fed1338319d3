"""Changing a site's access model: definitions, defaults and grants (admin API and CLI).

Every write checks its references against the site's catalog: a meter names existing
entitlements, a bundle existing entitlements, meters, credits and bundles (never itself,
directly or through others), a grant an existing bundle. A definition still named by
another, by the defaults or by a grant cannot be deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import msgspec

from sessionscope.access.catalog import Catalog, decode_definition
from sessionscope.access.catalog_cache import forget_catalog
from sessionscope.access.decide import load_catalog
from sessionscope.access.errors import AccessError
from sessionscope.access.model import (
    DEFAULTS_ID,
    DEFAULTS_KIND,
    STORED_KIND,
    AccessDefaults,
    Bundle,
    Credit,
    Definition,
    Grant,
    GrantCreate,
    Meter,
)
from sessionscope.clock import ms_to_rfc3339
from sessionscope.ids import uuid7
from sessionscope.store.access_records import AccessRecord, GrantFilter, GrantRecord
from sessionscope.store.base import Conflict, Store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_encoder = msgspec.json.Encoder()


# ---- definitions -----------------------------------------------------------------


async def create_definition(
    store: Store, tenant: str, site: str, definition: Definition, at_ms: int
) -> Definition:
    if definition.id is None:
        definition = msgspec.structs.replace(definition, id=str(uuid.uuid4()))
    catalog = await load_catalog(store, tenant, site)
    check_references(catalog, definition)
    try:
        await _save(store, _record(tenant, site, definition, at_ms), create=True)
    except Conflict:
        name = STORED_KIND[type(definition)]
        raise AccessError(
            409, f"{name}_exists", f"{name} {definition.id!r} exists already", {"field": "id"}
        ) from None
    return definition


async def replace_definition(
    store: Store, tenant: str, site: str, object_id: str, definition: Definition, at_ms: int
) -> Definition:
    if definition.id not in (None, object_id):
        raise AccessError(
            400, "invalid_field", "id: must match the id in the path", {"field": "id"}
        )
    definition = msgspec.structs.replace(definition, id=object_id)
    catalog = await load_catalog(store, tenant, site)
    kind = type(definition)
    if object_id not in catalog.table(kind):
        raise _not_found(kind, object_id)
    check_references(catalog, definition)
    record = _record(tenant, site, definition, at_ms)
    if not await _save(store, record, create=False):
        raise _not_found(kind, object_id)
    return definition


async def get_definition(
    store: Store, tenant: str, site: str, kind: type[Definition], object_id: str
) -> Definition:
    record = await store.get_access_object(tenant, site, STORED_KIND[kind], object_id)
    if record is None:
        raise _not_found(kind, object_id)
    return decode_definition(record)


async def list_definitions(
    store: Store, tenant: str, site: str, kind: type[Definition], after: str | None, limit: int
) -> tuple[list[Definition], str | None]:
    """A page of definitions in id order, and the cursor of the next page (None: last)."""
    records = await store.list_access_objects(tenant, site, STORED_KIND[kind], after, limit + 1)
    page = [decode_definition(record) for record in records[:limit]]
    more = len(records) > limit
    return page, (page[-1].id if more and page else None)


async def delete_definition(
    store: Store, tenant: str, site: str, kind: type[Definition], object_id: str
) -> None:
    catalog = await load_catalog(store, tenant, site)
    if object_id not in catalog.table(kind):
        raise _not_found(kind, object_id)
    users = catalog.referrers(kind, object_id)
    if kind is Bundle and await store.list_grants(
        GrantFilter(tenant, site, bundle_id=object_id), None, 1
    ):
        users.append("grants")
    if users:
        name = STORED_KIND[kind]
        raise AccessError(
            409,
            "in_use",
            f"{name} {object_id!r} is still used by {', '.join(users)}",
            {"used_by": users},
        )
    try:
        deleted = await store.delete_access_object(tenant, site, STORED_KIND[kind], object_id)
    finally:
        forget_catalog(store, tenant, site)
    if not deleted:
        raise _not_found(kind, object_id)


def check_references(catalog: Catalog, definition: Definition) -> None:
    if isinstance(definition, Meter | Credit):
        _require(catalog.entitlements, definition.entitlements, "entitlements", "entitlement")
    if isinstance(definition, Bundle):
        cycle = catalog.cycle_through(definition)
        if cycle is not None:
            raise AccessError(
                400,
                "bundle_cycle",
                f"bundles: nesting would make a cycle ({' > '.join(cycle)})",
                {"field": "bundles", "cycle": cycle},
            )
        _require(catalog.entitlements, definition.entitlements, "entitlements", "entitlement")
        _require(catalog.meters, definition.meters, "meters", "meter")
        _require(catalog.credits, definition.credits, "credits", "credit")
        _require(catalog.bundles, definition.bundles, "bundles", "bundle")


def _require(known: Iterable[str], wanted: list[str], field: str, name: str) -> None:
    known_ids = set(known)
    missing = [item for item in wanted if item not in known_ids]
    if missing:
        raise AccessError(
            400,
            "unknown_reference",
            f"{field}: no {name} {missing[0]!r} on this site",
            {"field": field, "missing": missing},
        )


def _record(tenant: str, site: str, definition: Definition, at_ms: int) -> AccessRecord:
    assert definition.id is not None
    stamp = ms_to_rfc3339(at_ms)
    doc = _encoder.encode(definition).decode()
    return AccessRecord(
        tenant, site, STORED_KIND[type(definition)], definition.id, doc, stamp, stamp
    )


async def _save(store: Store, record: AccessRecord, create: bool) -> bool:
    """`store.save_access_object`, then the site's cached catalog is forgotten (even when
    the write seems to fail: it may have landed before the error)."""
    try:
        return await store.save_access_object(record, create=create)
    finally:
        forget_catalog(store, record.tenant, record.site)


def _not_found(kind: type[Definition], object_id: str) -> AccessError:
    name = STORED_KIND[kind]
    return AccessError(404, f"{name}_not_found", f"no {name} {object_id!r} on this site")


# ---- defaults --------------------------------------------------------------------


async def get_defaults(store: Store, tenant: str, site: str) -> AccessDefaults:
    record = await store.get_access_object(tenant, site, DEFAULTS_KIND, DEFAULTS_ID)
    if record is None:
        return AccessDefaults()
    return msgspec.json.decode(record.doc, type=AccessDefaults)


async def set_defaults(
    store: Store, tenant: str, site: str, defaults: AccessDefaults, at_ms: int
) -> AccessDefaults:
    catalog = await load_catalog(store, tenant, site)
    for field in ("anonymous", "registered"):
        bundle = getattr(defaults, field)
        if bundle is not None:
            _require(catalog.bundles, [bundle], field, "bundle")
    stamp = ms_to_rfc3339(at_ms)
    doc = _encoder.encode(defaults).decode()
    record = AccessRecord(tenant, site, DEFAULTS_KIND, DEFAULTS_ID, doc, stamp, stamp)
    if not await _save(store, record, create=False):
        try:
            await _save(store, record, create=True)
        except Conflict:  # another request made it meanwhile: ours is the later word
            await _save(store, record, create=False)
    return defaults


# ---- grants ----------------------------------------------------------------------


async def grant_bundle(
    store: Store, tenant: str, site: str, request: GrantCreate, at_ms: int
) -> Grant:
    catalog = await load_catalog(store, tenant, site)
    _require(catalog.bundles, [request.bundle], "bundle", "bundle")
    expires_ms = (
        (request.expires_at - _EPOCH) // timedelta(milliseconds=1)
        if request.expires_at is not None
        else None
    )
    record = GrantRecord(
        tenant=tenant,
        site=site,
        id=uuid7(at_ms),
        user_id=request.user_id,
        bundle_id=request.bundle,
        expires_ms=expires_ms,
        created_at=ms_to_rfc3339(at_ms),
    )
    try:
        await store.create_grant(record)
    except Conflict:
        raise AccessError(
            409,
            "grant_exists",
            f"user {request.user_id!r} already holds bundle {request.bundle!r}",
            {"field": "bundle"},
        ) from None
    return grant_view(record)


async def list_grants(
    store: Store, where: GrantFilter, after: str | None, limit: int
) -> tuple[list[Grant], str | None]:
    records = await store.list_grants(where, after, limit + 1)
    page = [grant_view(record) for record in records[:limit]]
    return page, (page[-1].id if len(records) > limit and page else None)


async def revoke_grant(store: Store, tenant: str, site: str, grant_id: str) -> None:
    if not await store.delete_grant(tenant, site, grant_id):
        raise AccessError(404, "grant_not_found", f"no grant {grant_id!r} on this site")


def grant_view(record: GrantRecord) -> Grant:
    return Grant(
        id=record.id,
        user_id=record.user_id,
        bundle=record.bundle_id,
        expires_at=ms_to_rfc3339(record.expires_ms) if record.expires_ms is not None else None,
        created_at=record.created_at,
    )
