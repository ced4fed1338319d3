"""API keys: issue, digest, verify, and the principal a verified key stands for."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from sessionscope.auth.secretbox import SecretBox
from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.ids import random_token, uuid7
from sessionscope.model import ApiKey, IssuedKey, KeyKind, Scope
from sessionscope.store.base import Store

KEY_PREFIXES: dict[str, str] = {
    "secret": "ss_sk_",
    "publishable": "ss_pk_",
    "hmac": "ss_ak_",
}
HMAC_SECRET_PREFIX = "ss_hs_"
DEFAULT_SCOPES: dict[str, list[Scope]] = {
    "secret": ["read", "write"],
    "publishable": [],
    "hmac": ["read"],
}
_CACHE_LIMIT = 10_000


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a live key of a tenant, maybe bound to one site."""

    key_id: str
    tenant: str
    site: str | None
    kind: KeyKind
    scopes: frozenset[str]
    origins: tuple[str, ...]

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def principal_of(key: ApiKey) -> Principal:
    return Principal(
        key_id=key.id,
        tenant=key.tenant,
        site=key.site,
        kind=key.kind,
        scopes=frozenset(key.scopes),
        origins=tuple(key.origins),
    )


def issue_key(
    *,
    tenant: str,
    kind: KeyKind,
    site: str | None = None,
    scopes: list[Scope] | None = None,
    origins: list[str] | None = None,
    box: SecretBox | None = None,
) -> tuple[ApiKey, IssuedKey]:
    """Make a key: the stored record (digest only) and the one-time view with secrets."""
    token = KEY_PREFIXES[kind] + random_token(32)
    chosen_scopes = sorted(set(DEFAULT_SCOPES[kind] if scopes is None else scopes))
    created_at = ms_to_rfc3339(now_ms())
    hmac_secret = HMAC_SECRET_PREFIX + random_token(40) if kind == "hmac" else None
    if hmac_secret is not None and box is None:
        raise ValueError("an HMAC key needs the master key to seal its secret")
    record = ApiKey(
        id=uuid7(),
        tenant=tenant,
        site=site,
        kind=kind,
        scopes=chosen_scopes,
        origins=list(origins or []),
        prefix=token[:12],
        digest=digest(token),
        created_at=created_at,
        secret_ciphertext=box.seal(hmac_secret) if box and hmac_secret else None,
    )
    shown = IssuedKey(
        id=record.id,
        tenant=tenant,
        site=site,
        kind=kind,
        scopes=record.scopes,
        origins=record.origins,
        created_at=created_at,
        key=token if kind != "hmac" else None,
        access_key=token if kind == "hmac" else None,
        secret_key=hmac_secret,
    )
    return record, shown


@dataclass(frozen=True, slots=True)
class _Answer:
    until: float  # time.monotonic() after which the store is asked again
    key: ApiKey | None
    principal: Principal | None


class KeyVerifier:
    """Looks keys up by digest, with a short cache so hot paths skip the store.

    The cache holds answers for `ttl` seconds, so a key revoked through another
    instance stops working within that time; a revocation through this
    instance is immediate. It is keyed by the presented token itself, so a hit
    costs neither the digest nor building the principal again.
    """

    def __init__(self, store: Store, ttl: float) -> None:
        self._store = store
        self._ttl = ttl
        self._cache: dict[str, _Answer] = {}

    async def verify(self, token: str) -> ApiKey | None:
        """The live key for `token`, or None when unknown or revoked."""
        return (await self._answer(token)).key

    async def key_and_principal(self, token: str) -> tuple[ApiKey | None, Principal | None]:
        """The live key for `token` and who it stands for, in one look (None, None if none)."""
        answer = await self._answer(token)
        return answer.key, answer.principal

    async def principal(self, token: str) -> Principal | None:
        """Who a live key stands for, or None when unknown or revoked."""
        hit = self._cache.get(token)  # the hit inline: every authenticated request asks
        if hit is not None and hit.until > time.monotonic():
            return hit.principal
        return (await self._answer(token)).principal

    def cached_principal(self, token: str) -> Principal | None:
        """Who a live key stands for, at once, if this process looked it up lately; else None
        (also for a key known to be dead: `principal` tells the two apart)."""
        hit = self._cache.get(token)
        return hit.principal if hit is not None and hit.until > time.monotonic() else None

    def cached_key_and_principal(self, token: str) -> tuple[ApiKey, Principal] | None:
        """The live key and who it stands for, at once, if this process looked it up lately;
        else None (as `cached_principal`)."""
        hit = self._cache.get(token)
        if hit is None or hit.until <= time.monotonic() or hit.key is None:
            return None
        return (hit.key, hit.principal) if hit.principal is not None else None

    async def _answer(self, token: str) -> _Answer:
        hit = self._cache.get(token)
        moment = time.monotonic()
        if hit is not None and hit.until > moment:
            return hit
        key = await self._store.find_key(digest(token))
        live = key if key is not None and key.revoked_at is None else None
        answer = _Answer(moment + self._ttl, live, None if live is None else principal_of(live))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        if self._ttl > 0:
            self._cache[token] = answer
        return answer

    def forget(self, key_id: str) -> None:
        stale = [t for t, answer in self._cache.items() if answer.key and answer.key.id == key_id]
        for token in stale:
            del self._cache[token]
