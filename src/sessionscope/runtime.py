"""Wiring: from settings to a store, a secret box and the request-handling state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from sessionscope.auth.keys import KeyVerifier
from sessionscope.auth.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from sessionscope.auth.secretbox import SecretBox, decode_master_key, load_or_create_key_file
from sessionscope.clock import set_offset_ms
from sessionscope.config import ConfigError, Settings
from sessionscope.enrich.service import Enricher
from sessionscope.http.state import AppState
from sessionscope.identify import DeviceIdentifier
from sessionscope.judge.service import Judge
from sessionscope.lists.cache import TenantListCache
from sessionscope.pipeline import Pipeline
from sessionscope.store import open_store
from sessionscope.store.sqlite import sqlite_path


def master_key_file(settings: Settings) -> Path | None:
    """The embedded store keeps its master key beside the database file."""
    if settings.database_url.startswith("sqlite:///"):
        return Path(sqlite_path(settings.database_url)).parent / "master.key"
    return None


def secret_box(settings: Settings) -> SecretBox:
    if settings.master_key:
        return SecretBox(decode_master_key(settings.master_key))
    key_file = master_key_file(settings)
    if key_file is None:
        raise ConfigError(
            "SESSIONSCOPE_MASTER_KEY is required with PostgreSQL "
            "(make one with: sessionscope master-key)"
        )
    return SecretBox(decode_master_key(load_or_create_key_file(key_file)))


def redis_client(settings: Settings) -> Any:
    """A redis.asyncio client (connects lazily), or None without SESSIONSCOPE_REDIS_URL."""
    if not settings.redis_url:
        return None
    return Redis.from_url(settings.redis_url)


def rate_limiter(settings: Settings, redis: Any) -> RateLimiter:
    if redis is None:
        return MemoryRateLimiter()
    return RedisRateLimiter(redis, settings.redis_prefix)


def build_state(settings: Settings) -> AppState:
    set_offset_ms(settings.clock_offset_seconds * 1000)
    store = open_store(
        settings.database_url,
        settings.durability,
        settings.read_cache_mb,
        settings.nonce_table_mb,
    )
    redis = redis_client(settings)
    enricher = Enricher.from_settings(settings)
    return AppState(
        settings=settings,
        store=store,
        verifier=KeyVerifier(store, settings.key_cache_seconds),
        box=secret_box(settings),
        pipeline=Pipeline(
            enricher,
            TenantListCache(store, settings.tenant_lists_ttl_seconds),
            identifier=DeviceIdentifier(store),
            judge=Judge.from_settings(settings, store, redis, enricher.geo),
        ),
        limiter=rate_limiter(settings, redis),
        redis=redis,
    )
