"""The ZephrHmacHttp request signature: signing and verification, pure.

Header: `Authorization: ZEPHR-HMAC-SHA256 {accessKey}:{timestamp}:{nonce}:{hash}` where
`hash` is the lowercase hex SHA-256 of `secretKey + body + path + query + METHOD +
timestamp + nonce` (a plain digest, not RFC 2104 HMAC), `timestamp` is epoch milliseconds
and `query` has no leading `?`. Some clients fold the query into the path and sign an
empty query; verification accepts both placements.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

SCHEME = "ZEPHR-HMAC-SHA256"
MAX_SKEW_MS = 5 * 60 * 1000
MAX_NONCE_LENGTH = 128
_MAX_TIMESTAMP_DIGITS = 16


@dataclass(slots=True)  # not frozen: a frozen dataclass takes five times as long to make
class HmacCredentials:
    """What the Authorization header carries (the digest is ASCII)."""

    access_key: str
    timestamp_ms: int
    nonce: str
    digest: str


def signature(
    secret_key: str, body: str, path: str, query: str, method: str, timestamp_ms: int, nonce: str
) -> str:
    return _digest(secret_key, body, path, query, _signed_tail(method, timestamp_ms, nonce))


def _signed_tail(method: str, timestamp_ms: int, nonce: str) -> str:
    """What follows the query in the signed text: the same for every form of a request."""
    return f"{method.upper()}{timestamp_ms}{nonce}"


def _digest(secret_key: str, body: str, path: str, query: str, tail: str) -> str:
    return hashlib.sha256(f"{secret_key}{body}{path}{query}{tail}".encode()).hexdigest()


def authorization(
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    *,
    query: str = "",
    body: str = "",
    timestamp_ms: int,
    nonce: str,
) -> str:
    """The Authorization header value for one request."""
    digest = signature(secret_key, body, path, query.removeprefix("?"), method, timestamp_ms, nonce)
    return f"{SCHEME} {access_key}:{timestamp_ms}:{nonce}:{digest}"


def parse_authorization(header: str | None) -> HmacCredentials | None:
    """The credentials of a well-formed header, else None."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.upper() != SCHEME:
        return None
    parts = rest.strip().split(":")
    if len(parts) != 4:
        return None
    access_key, timestamp, nonce, digest = parts
    if not access_key or not nonce or len(nonce) > MAX_NONCE_LENGTH:
        return None
    if not timestamp.isdigit() or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        return None
    if not digest.isascii():  # no hex digest; and compare_digest takes ASCII text only
        return None
    return HmacCredentials(access_key, int(timestamp), nonce, digest.lower())


def within_skew(timestamp_ms: int, now_ms: int, skew_ms: int = MAX_SKEW_MS) -> bool:
    return abs(now_ms - timestamp_ms) <= skew_ms


def signed_forms(paths: Iterable[str], query: str) -> Iterator[tuple[str, str]]:
    """(path, query) pairs a client may have signed: query apart, or folded into the path."""
    for path in paths:
        yield path, query
        if query:
            yield f"{path}?{query}", ""


def verify(
    credentials: HmacCredentials,
    secret_key: str,
    method: str,
    paths: Iterable[str],
    query: str,
    body: str = "",
) -> bool:
    """True when the hash matches one accepted form of the request. Each comparison takes
    constant time; stopping at the first match tells only which form the client signed,
    which the client knows."""
    tail = _signed_tail(method, credentials.timestamp_ms, credentials.nonce)
    for path, signed_query in signed_forms(paths, query):
        expected = _digest(secret_key, body, path, signed_query, tail)
        if hmac.compare_digest(expected, credentials.digest):
            return True
    return False
