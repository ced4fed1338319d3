"""Identifiers: time-ordered session ids and random key material."""

from __future__ import annotations

import os
import re
import secrets
import threading
import uuid

from sessionscope.clock import now_ms

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def uuid7(ms: int | None = None) -> str:
    """A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits.

    Python 3.11 has no uuid7; the layout is small enough to build here.
    """
    stamp = now_ms() if ms is None else ms
    rand = int.from_bytes(random_bytes(10), "big")
    value = (stamp & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


class _RandomPool(threading.local):
    """Random bytes from the OS, fetched a page at a time: one system call per few hundred
    ids instead of one per id. Per thread, so no two callers are ever handed the same bytes."""

    def __init__(self) -> None:
        self.buffer = b""
        self.position = 0


_POOL_BYTES = 4096
_pool = _RandomPool()


def random_bytes(count: int) -> bytes:
    """`count` bytes from the OS's random source, without a system call on most calls (each
    lets the GIL go, and winning it back from the server's threads costs more than the call)."""
    start = _pool.position
    if start + count > len(_pool.buffer):
        _pool.buffer, start = os.urandom(_POOL_BYTES), 0
    _pool.position = start + count
    return _pool.buffer[start : start + count]


def random_token(length: int = 32) -> str:
    """A URL-safe base62 token of `length` characters."""
    return "".join(secrets.choice(_BASE62) for _ in range(length))


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(text: str) -> str:
    """Lower-case canonical form of a UUID; ValueError when it is not one."""
    if _CANONICAL_UUID.fullmatch(text):  # already canonical: the usual case, no parse needed
        return text
    return str(uuid.UUID(text))
