"""The Store protocol every backend implements, and what backends share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import msgspec

from sessionscope.clock import rfc3339_to_ms
from sessionscope.model import (
    ApiKey,
    Session,
    SessionState,
    SessionStatus,
    Site,
    SiteSettings,
    Tenant,
)


class StoreError(Exception):
    """A store could not do what was asked."""


class Conflict(StoreError):
    """A record with the same identity exists already."""


class NotFound(StoreError):
    """The record to change does not exist."""


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session as read: the document bytes and the columns needed to serve it."""

    id: str
    created_ms: int
    expires_ms: int | None
    status: str
    doc: bytes


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
    )


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
    async def insert_session(self, session: Session) -> None:
        """Store a new session; Conflict when the tenant already has a session with its id."""
        ...

    async def get_session(
        self, tenant: str, session_id: str, sites: tuple[str, ...] | None = None
    ) -> StoredSession | None: ...

    async def replace_session(self, session: Session, expected_version: int) -> bool:
        """Write a changed session if its stored version is still `expected_version`."""
        ...

    async def list_sessions(
        self, query: SessionQuery, after: Cursor | None, limit: int, now_ms: int
    ) -> list[StoredSession]:
        """Sessions matching `query`, newest first, strictly after `after`."""
        ...
