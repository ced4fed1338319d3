"""What every request handler can reach: settings, store, keys, secret box, pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from sessionscope.auth.keys import KeyVerifier
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
