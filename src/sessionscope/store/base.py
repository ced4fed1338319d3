"""The Store protocol every backend implements, and what backends share."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import msgspec

from sessionscope.clock import rfc3339_to_ms
from sessionscope.ipprefix import ip_prefix
from sessionscope.judge.records import (
    FeedbackRecord,
    FraudSighting,
    HistoryAnswer,
    HistoryColumn,
    HistoryRequest,
    VerdictCount,
)
from sessionscope.lists.model import IPListEntry, IPListRecord, TenantIPList
from sessionscope.model import (
    ApiKey,
    Session,
    SessionState,
    SessionStatus,
    Site,
    SiteSettings,
    Tenant,
)
from sessionscope.store.access_records import AccessRecord, GrantFilter, GrantRecord
from sessionscope.store.allowance import ConsumePlan, Consumption, UsageKey, UsageRow
from sessionscope.store.devices_sql import KnownDevice


class StoreError(Exception):
    """A store could not do what was asked."""


class Conflict(StoreError):
    """A record with the same identity exists already."""


class NotFound(StoreError):
    """The record to change does not exist."""


@dataclass(frozen=True, slots=True, weakref_slot=True)  # views made of it: dialects/zephr_views.py
class StoredSession:
    """A session as read: the document bytes and the columns needed to serve it."""

    id: str
    created_ms: int
    expires_ms: int | None
    status: str
    doc: bytes


def is_active(stored: StoredSession, now_ms: int) -> bool:
    """Active as of `now_ms`: what a query for status `active` finds."""
    return stored.status == "active" and (stored.expires_ms is None or stored.expires_ms > now_ms)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset position: the last row of the previous page, newest first."""

    created_ms: int
    id: str


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """Filters of a session list. `sites` None means every site of the tenant."""

    tenant: str
    sites: tuple[str, ...] | None = None
    user_id: str | None = None
    device_id: str | None = None
    state: SessionState | None = None
    status: SessionStatus | None = None
    since_ms: int | None = None
    until_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SessionColumns:
    """Values copied out of the document into indexed columns."""

    id: str
    tenant: str
    site: str
    version: int
    created_ms: int
    updated_ms: int
    expires_ms: int | None
    user_id: str | None
    device_id: str | None
    ip: str | None
    state: str
    status: str
    bot_score: float | None
    risk_score: float | None
    country_code: str | None
    # judgement (issue 5)
    ip_prefix: str | None = None
    decision: str | None = None
    is_bot: bool | None = None


def session_columns(session: Session) -> SessionColumns:
    return SessionColumns(
        id=session.id,
        tenant=session.tenant,
        site=session.site,
        version=session.version,
        created_ms=rfc3339_to_ms(session.created_at),
        updated_ms=rfc3339_to_ms(session.updated_at),
        expires_ms=rfc3339_to_ms(session.expires_at) if session.expires_at else None,
        user_id=session.user.id if session.user else None,
        device_id=session.device_id,
        ip=session.ip,
        state=session.state,
        status=session.status,
        bot_score=session.bot.score,
        risk_score=session.risk.score,
        country_code=session.location.country_code,
        ip_prefix=ip_prefix(session.ip),
        decision=session.risk.decision,
        is_bot=session.bot.is_bot,
    )


class SiteCache:
    """Sites are read on nearly every request and change rarely: remember them briefly.

    A change made through this process forgets the tenant's entries at once; one made
    by another instance is seen within `ttl` seconds. Absent sites are never cached.
    """

    def __init__(self, ttl: float = 2.0) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[str, str | None], tuple[float, Site]] = {}

    def get(self, tenant: str, slug: str | None) -> Site | None:
        entry = self._entries.get((tenant, slug))
        if entry is None or entry[0] <= time.monotonic():
            return None
        return msgspec.structs.replace(entry[1])

    def put(self, tenant: str, slug: str | None, site: Site | None) -> Site | None:
        if site is not None:
            if len(self._entries) >= _SITE_CACHE_LIMIT:
                self._entries.clear()
            self._entries[(tenant, slug)] = (time.monotonic() + self._ttl, site)
            return msgspec.structs.replace(site)
        return None

    def forget(self, tenant: str) -> None:
        for key in [key for key in self._entries if key[0] == tenant]:
            del self._entries[key]


_SITE_CACHE_LIMIT = 10_000
_settings_decoder = msgspec.json.Decoder(SiteSettings)


def encode_settings(settings: SiteSettings) -> str:
    return msgspec.json.encode(settings).decode()


def decode_settings(text: str) -> SiteSettings:
    """Stored settings; fields this version does not know are ignored, missing ones default."""
    return _settings_decoder.decode(text)


class Store(Protocol):
    """Persistence for tenants, sites, keys and sessions.

    Every session read and write is scoped by tenant: a backend never returns a
    row of another tenant, so callers cannot leak existence by mistake.
    """

    url_scheme: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied now."""
        ...

    async def ping(self) -> None:
        """Raise StoreError when the store cannot answer."""
        ...

    # tenancy -----------------------------------------------------------------
    async def create_tenant(self, tenant: Tenant) -> None: ...

    async def get_tenant(self, slug: str) -> Tenant | None: ...

    async def list_tenants(self) -> list[Tenant]: ...

    async def create_site(self, site: Site) -> None:
        """Insert a site; when it is the default, the tenant's other sites stop being so."""
        ...

    async def set_default_site(self, tenant: str, slug: str) -> None: ...

    async def update_site_settings(self, tenant: str, slug: str, settings: SiteSettings) -> bool:
        """Replace a site's settings; False when the tenant has no such site."""
        ...

    async def get_site(self, tenant: str, slug: str) -> Site | None: ...

    async def get_default_site(self, tenant: str) -> Site | None: ...

    async def list_sites(self, tenant: str) -> list[Site]: ...

    # keys --------------------------------------------------------------------
    async def create_key(self, key: ApiKey) -> None: ...

    async def find_key(self, digest: str) -> ApiKey | None: ...

    async def list_keys(self, tenant: str | None) -> list[ApiKey]: ...

    async def revoke_key(self, tenant: str, key_id: str, revoked_at: str) -> bool:
        """Mark a key revoked; False when the tenant has no such live key."""
        ...

    # sessions ----------------------------------------------------------------
    async def insert_session(self, session: Session) -> bytes:
        """Store a new session and return the JSON document stored (callers answer with it
        rather than encode it again); Conflict when the tenant already has a session with its
        id."""
        ...

    async def get_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None: ...

    def cached_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None:
        """The session, at once, if this process holds its current row; else None, which
        says nothing of whether it exists (`get_session` answers that)."""
        ...

    async def replace_session(self, session: Session, expected_version: int) -> bool:
        """Write a changed session if its stored version is still `expected_version`."""
        ...

    async def list_sessions(
        self, query: SessionQuery, after: Cursor | None, limit: int, now_ms: int
    ) -> list[StoredSession]:
        """Sessions matching `query`, newest first, strictly after `after`."""
        ...

    async def active_user_sessions(
        self, tenant: str, site: str, user_id: str, limit: int, now_ms: int
    ) -> list[StoredSession]:
        """The user's sessions on `site` active as of `now_ms`, newest first: `list_sessions`
        for that one question, which a store may answer from memory it keeps exact."""
        ...

    def cached_active_user_sessions(
        self, tenant: str, site: str, user_id: str, limit: int, now_ms: int
    ) -> list[StoredSession] | None:
        """`active_user_sessions` at once, if this process holds the current list and each
        of its sessions; else None, which says nothing of the answer."""
        ...

    # per-tenant IP lists (issue 3) -------------------------------------------
    async def create_ip_list(self, record: IPListRecord) -> None:
        """Insert an empty list; Conflict when the tenant has a list of that name."""
        ...

    async def get_ip_list(self, tenant: str, name: str) -> IPListRecord | None: ...

    async def list_ip_lists(self, tenant: str) -> list[IPListRecord]:
        """The tenant's lists by name, each with its size."""
        ...

    async def delete_ip_list(self, tenant: str, name: str) -> bool:
        """Delete a list and its entries; False when the tenant has no such list."""
        ...

    async def add_ip_list_entries(
        self, tenant: str, name: str, cidrs: list[str], note: str | None, at: str
    ) -> int:
        """Add the networks the list lacks; how many were added. NotFound without the list."""
        ...

    async def remove_ip_list_entries(
        self, tenant: str, name: str, cidrs: list[str], at: str
    ) -> int:
        """Remove the networks; how many were there. NotFound without the list."""
        ...

    async def ip_list_entries(
        self, tenant: str, name: str, after: str | None, limit: int
    ) -> list[IPListEntry]:
        """A page of a list's entries in CIDR text order, strictly after `after`."""
        ...

    async def load_ip_lists(self, tenant: str) -> list[TenantIPList]:
        """Every non-empty list of the tenant with all its networks (for enrichment)."""
        ...

    # HMAC nonces of the compatible APIs (issue 6) ----------------------------
    async def remember_nonces(self, nonces: list[tuple[str, str, int]], now_ms: int) -> list[bool]:
        """Record each (key_id, nonce, expires_ms), in order, in one write; for each, False
        when that nonce of that key is already recorded and unexpired."""
        ...

    async def purge_nonces(self, now_ms: int) -> int:
        """Forget expired nonces; how many were forgotten."""
        ...

    def claim_nonce_now(self, key_id: str, nonce: str, expires_ms: int, now_ms: int) -> bool | None:
        """`remember_nonces` for one nonce, at once, where the store can: True when fresh
        (now recorded), False when recorded and unexpired; None when it cannot say without
        waiting, and then nothing was recorded."""
        ...

    # device identity (issue 4) -------------------------------------------------
    async def find_device_by_token(
        self, tenant: str, site: str, token_digest: str
    ) -> KnownDevice | None: ...

    async def device_candidates(
        self, tenant: str, site: str, bucket: str, limit: int
    ) -> list[KnownDevice]:
        """The site's devices in `bucket`, most recently seen first."""
        ...

    async def save_device(self, device: KnownDevice) -> None:
        """Insert a device, or update all but its first sighting when it exists."""
        ...

    # judgement: history and feedback (issue 5) ---------------------------------
    async def previous_session(
        self, tenant: str, column: HistoryColumn, value: str, before: Cursor
    ) -> StoredSession | None:
        """The newest session with `column` = `value` created strictly before `before`."""
        ...

    async def fraud_sightings(
        self, tenant: str, ip_prefix: str, since_ms: int, until_ms: int, exclude_id: str, limit: int
    ) -> list[FraudSighting]:
        """Sessions of the prefix created in [since, until] labelled fraud or judged fake."""
        ...

    async def device_users(
        self, tenant: str, device_id: str, since_ms: int, until_ms: int, exclude_id: str, limit: int
    ) -> list[str]:
        """Distinct user ids of the device's sessions created in [since, until]."""
        ...

    async def session_counts(
        self,
        tenant: str,
        column: HistoryColumn,
        value: str,
        since_ms: tuple[int, ...],
        until_ms: int,
        exclude_id: str,
        limit: int,
    ) -> list[int]:
        """Sessions with `column` = `value` created in [since, until], for each `since`.

        Counts stop at `limit` (only the newest `limit` sessions are read).
        """
        ...

    async def judgement_history(self, request: HistoryRequest) -> HistoryAnswer:
        """Every question of `request` answered from one read (one statement): what
        `previous_session`, `fraud_sightings`, `device_users` and `session_counts` answer
        one by one."""
        ...

    async def save_feedback(self, record: FeedbackRecord) -> None:
        """Store a label; a later label of the same session replaces it."""
        ...

    async def verdict_counts(
        self, tenant: str, sites: tuple[str, ...] | None, since_ms: int | None, until_ms: int | None
    ) -> list[VerdictCount]:
        """Labelled sessions grouped by site, label and current verdict (labelled in the window)."""
        ...

    # session lifecycle and access model (issue 7) ------------------------------
    async def purge_sessions(self, tenant: str, site: str, cutoff_ms: int, limit: int) -> int:
        """Delete up to `limit` sessions of a site that ended before `cutoff_ms` (expired,
        or released/revoked and unchanged since), with their feedback labels; how many
        sessions were deleted."""
        ...

    async def purge_usage(self, now_ms: int, limit: int) -> int:
        """Delete up to `limit` meter usage rows (and counted content) of ended periods."""
        ...

    async def save_access_object(self, record: AccessRecord, create: bool) -> bool:
        """Insert (Conflict when it exists) or replace (False when it does not) a definition."""
        ...

    async def list_access_objects(
        self,
        tenant: str,
        site: str,
        kind: str | None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[AccessRecord]:
        """A site's definitions of one kind (or all), by kind and id, strictly after `after`."""
        ...

    async def get_access_object(
        self, tenant: str, site: str, kind: str, object_id: str
    ) -> AccessRecord | None: ...

    async def delete_access_object(
        self, tenant: str, site: str, kind: str, object_id: str
    ) -> bool: ...

    async def create_grant(self, grant: GrantRecord) -> None:
        """Store a grant; Conflict when the user already holds the bundle."""
        ...

    async def list_grants(
        self, where: GrantFilter, after: str | None, limit: int
    ) -> list[GrantRecord]:
        """Grants matching `where`, by id, strictly after `after`."""
        ...

    async def delete_grant(self, tenant: str, site: str, grant_id: str) -> bool: ...

    async def consume_allowance(self, key: UsageKey, plan: ConsumePlan) -> Consumption:
        """Apply `allowance.settle` to the visitor's usage as one atomic step."""
        ...

    async def usage_of(
        self, tenant: str, site: str, subject: str, sources: tuple[str, ...]
    ) -> list[UsageRow]:
        """The visitor's usage rows of these sources, with their counted content ids."""
        ...
