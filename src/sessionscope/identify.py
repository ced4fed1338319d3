"""Device identity: a short, stable, URL-safe device id per site.

In order: (a) the browser script's persisted device token, when the site knows it;
(b) a weighted match of stable fingerprint components against the site's known devices
that share the most stable of them (one bounded candidate query); (c) a new random id.
The session records how (`device.identified_by`) and with what confidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from sessionscope.clock import now_ms
from sessionscope.ids import random_token
from sessionscope.model import Session
from sessionscope.store.base import Store
from sessionscope.store.devices_sql import KnownDevice

DEVICE_ID_LENGTH = 22
# Weights of the stable components; they sum to 1. Components that a browser update or a
# resized window changes (user-agent version, viewport) are not among them.
WEIGHTS: dict[str, float] = {
    "gpu_renderer": 0.12,
    "gpu_vendor": 0.03,
    "cpu_cores": 0.06,
    "platform": 0.04,
    "browser": 0.04,
    "os": 0.04,
    "memory": 0.05,
    "canvas": 0.12,
    "audio": 0.08,
    "fonts": 0.04,
    "timezone": 0.12,
    "languages": 0.10,
    "screen": 0.10,
    "touch_points": 0.03,
    "color_depth": 0.03,
}
# Candidates must agree on these: a different GPU, core count or browser is another device.
BUCKET_COMPONENTS = ("browser", "os", "platform", "cpu_cores", "gpu_renderer")
# A match needs this similarity: a browser update that changes both the canvas and the
# audio hash still matches (0.79); another screen, time zone and language list does not.
MATCH_THRESHOLD = 0.75
# Without this much component weight reported, a fingerprint says too little to match on.
MIN_EVIDENCE = 0.5
CANDIDATE_LIMIT = 50

_encoder = msgspec.json.Encoder(order="sorted")
_decoder = msgspec.json.Decoder(dict[str, Any])
Components = dict[str, Any]
IdentifiedBy = Literal["token", "fingerprint", "new"]


@dataclass(frozen=True, slots=True)
class Identification:
    device_id: str
    identified_by: IdentifiedBy
    confidence: float
    known: KnownDevice | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def components_of(session: Session) -> Components:
    """The stable components the session reports; absent ones are left out."""
    signals = session.signals
    screen = None
    if signals.screen_width is not None and signals.screen_height is not None:
        # Larger side first: turning a phone round is the same screen.
        sides = sorted((signals.screen_width, signals.screen_height), reverse=True)
        screen = f"{sides[0]}x{sides[1]}"
    found = {
        "gpu_renderer": signals.gpu_renderer,
        "gpu_vendor": signals.gpu_vendor,
        "cpu_cores": signals.hardware_concurrency,
        "platform": signals.platform,
        "browser": session.browser.type,
        "os": session.device.platform,
        "memory": signals.device_memory,
        "canvas": signals.canvas_hash,
        "audio": signals.audio_hash,
        "fonts": signals.fonts_hash,
        "timezone": signals.timezone,
        "languages": ",".join(signals.languages) if signals.languages else None,
        "screen": screen,
        "touch_points": signals.touch_points,
        "color_depth": signals.color_depth,
    }
    return {name: value for name, value in found.items() if value is not None}


def evidence(components: Components) -> float:
    """How much of the total weight the components cover (0..1)."""
    return round(sum(WEIGHTS[name] for name in components), 6)


def similarity(reported: Components, known: Components) -> float:
    """Weighted share of agreeing components among those either side has."""
    names = [name for name in WEIGHTS if name in reported or name in known]
    total = sum(WEIGHTS[name] for name in names)
    if total == 0:
        return 0.0
    agreeing = sum(WEIGHTS[name] for name in names if reported.get(name) == known.get(name))
    # rounded, so that a score on the threshold does not fall either side by float noise
    return round(agreeing / total, 6)


def bucket_of(components: Components) -> str:
    stable = [components.get(name) for name in BUCKET_COMPONENTS]
    return hashlib.sha256(_encoder.encode(stable)).hexdigest()[:32]


def encode_components(components: Components) -> str:
    return _encoder.encode(components).decode()


def best_match(
    reported: Components, candidates: list[KnownDevice]
) -> tuple[KnownDevice | None, float]:
    """The most similar candidate and its score (None, 0 without candidates)."""
    scored = [(similarity(reported, _decoder.decode(c.components)), c) for c in candidates]
    if not scored:
        return None, 0.0
    score, device = max(scored, key=lambda pair: pair[0])
    return device, score


class DeviceIdentifier:
    """The pipeline step that gives a session its device id."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def identify(self, session: Session) -> None:
        token = session.signals.device_token
        session.signals.device_token = None  # a bearer secret: only its digest is kept
        if session.device_id is not None and session.device.identified_by is not None:
            return
        reported = components_of(session)
        digest = token_digest(token) if token else None
        if digest is None and evidence(reported) < MIN_EVIDENCE:
            return
        found = await self._identification(session.tenant, session.site, digest, reported)
        await self._remember(session, found, digest, reported)
        session.device_id = found.device_id
        session.device.identified_by = found.identified_by
        session.device.identification_confidence = round(found.confidence, 3)

    async def _identification(
        self, tenant: str, site: str, digest: str | None, reported: Components
    ) -> Identification:
        if digest is not None:
            known = await self.store.find_device_by_token(tenant, site, digest)
            if known is not None:
                return Identification(known.device_id, "token", 1.0, known)
        score = 0.0
        if evidence(reported) >= MIN_EVIDENCE:
            candidates = await self.store.device_candidates(
                tenant, site, bucket_of(reported), CANDIDATE_LIMIT
            )
            device, score = best_match(reported, candidates)
            if device is not None and score >= MATCH_THRESHOLD:
                return Identification(device.device_id, "fingerprint", score, device)
        # Confidence that this is a device the site has not seen: the best near miss lowers it.
        return Identification(random_token(DEVICE_ID_LENGTH), "new", 1.0 - score, None)

    async def _remember(
        self, session: Session, found: Identification, digest: str | None, reported: Components
    ) -> None:
        at = now_ms()
        known = found.known
        await self.store.save_device(
            KnownDevice(
                tenant=session.tenant,
                site=session.site,
                device_id=found.device_id,
                token_digest=digest or (known.token_digest if known else None),
                bucket=bucket_of(reported),
                components=encode_components(reported),
                first_seen_ms=known.first_seen_ms if known else at,
                last_seen_ms=at,
            )
        )
