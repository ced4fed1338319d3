"""Identifiers: time-ordered session ids and random key material."""

from __future__ import annotations

import os
import secrets
import uuid

from sessionscope.clock import now_ms

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def uuid7(ms: int | None = None) -> str:
    """A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits.

    Python 3.11 has no uuid7; the layout is small enough to build here.
    """
    stamp = now_ms() if ms is None else ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (stamp & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def random_token(length: int = 32) -> str:
    """A URL-safe base62 token of `length` characters."""
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def canonical_uuid(text: str) -> str:
    """Lower-case canonical form of a UUID; ValueError when it is not one."""
    return str(uuid.UUID(text))
