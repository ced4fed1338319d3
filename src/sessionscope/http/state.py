"""What every request handler can reach: settings, store, keys, secret box, pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sessionscope.auth.keys import KeyVerifier
from sessionscope.auth.ratelimit import RateLimiter
from sessionscope.auth.secretbox import SecretBox
from sessionscope.config import Settings
from sessionscope.pipeline import Pipeline
from sessionscope.store.base import Store


@dataclass
class AppState:
    settings: Settings
    store: Store
    verifier: KeyVerifier
    box: SecretBox | None
    pipeline: Pipeline
    limiter: RateLimiter
    redis: Any = None  # redis.asyncio client when SESSIONSCOPE_REDIS_URL is set
