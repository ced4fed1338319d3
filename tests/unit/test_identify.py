"""Device identity: components, weights, similarity and buckets (pure), and the step on a
real SQLite store."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sessionscope.identify import (
    MATCH_THRESHOLD,
    MIN_EVIDENCE,
    WEIGHTS,
    DeviceIdentifier,
    best_match,
    bucket_of,
    components_of,
    encode_components,
    evidence,
    similarity,
)
from sessionscope.model import Browser, BrowserSignals, Device, Session
from sessionscope.store.devices_sql import KnownDevice
from sessionscope.store.sqlite import SQLiteStore
from tests.collecting import DESKTOP_SIGNALS


def session_with(signals: dict[str, Any], browser: str = "Chrome", site: str = "web") -> Session:
    return Session(
        id="01a20000-0000-7000-8000-000000000001",
        tenant="acme",
        site=site,
        site_uuid="u",
        version=1,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        last_seen_at="2026-01-01T00:00:00.000Z",
        expires_at=None,
        state="anonymous",
        status="active",
        device=Device(platform="Windows"),
        browser=Browser(type=browser),
        signals=msgspec.convert(signals, BrowserSignals),
    )


def desktop(**changes: Any) -> dict[str, Any]:
    return components_of(session_with({**DESKTOP_SIGNALS, **changes}))


def test_weights_sum_to_one() -> None:
    assert math.isclose(sum(WEIGHTS.values()), 1.0)


def test_components_leave_out_what_is_not_reported() -> None:
    found = desktop()
    assert found["screen"] == "2560x1440"
    assert found["languages"] == "de-DE,de,en"
    assert found["browser"] == "Chrome" and found["os"] == "Windows"
    assert "fonts" not in found
    assert components_of(session_with({})) == {"browser": "Chrome", "os": "Windows"}


def test_a_turned_phone_is_the_same_screen() -> None:
    assert desktop(screen_width=1440, screen_height=2560)["screen"] == desktop()["screen"]


def test_a_resized_window_changes_nothing() -> None:
    assert similarity(desktop(viewport_width=640, viewport_height=480), desktop()) == 1.0


def test_a_browser_update_still_matches() -> None:
    updated = desktop(canvas_hash="ffffffffffffffff", audio_hash="eeeeeeeeeeeeeeee")
    score = similarity(updated, desktop())
    assert MATCH_THRESHOLD <= score < 1.0


@pytest.mark.parametrize(
    "changes",
    [
        {
            "screen_width": 1920,
            "screen_height": 1080,
            "timezone": "Asia/Tokyo",
            "languages": ["ja"],
        },
        {"canvas_hash": "1", "audio_hash": "2", "timezone": "UTC", "device_memory": 4},
    ],
)
def test_other_profiles_do_not_match(changes: dict[str, Any]) -> None:
    assert similarity(desktop(**changes), desktop()) < MATCH_THRESHOLD


def test_a_score_on_the_threshold_is_exact() -> None:
    # 0.24 of 0.96 disagree: exactly 0.75, whatever order the weights are added in
    assert similarity(desktop(timezone="UTC", canvas_hash="x"), desktop()) == MATCH_THRESHOLD


def test_a_component_one_side_lacks_counts_against() -> None:
    without_gpu = desktop(gpu_renderer=None)
    assert "gpu_renderer" not in without_gpu
    assert similarity(without_gpu, desktop()) == pytest.approx(1 - WEIGHTS["gpu_renderer"] / 0.96)


def test_evidence_needs_more_than_a_few_fields() -> None:
    assert evidence(desktop()) >= MIN_EVIDENCE
    thin = components_of(session_with({"timezone": "UTC", "language": "en"}))
    assert evidence(thin) < MIN_EVIDENCE


def test_buckets_follow_the_most_stable_components() -> None:
    assert bucket_of(desktop(timezone="UTC", canvas_hash="x")) == bucket_of(desktop())
    assert bucket_of(desktop(hardware_concurrency=4)) != bucket_of(desktop())
    firefox = components_of(session_with(DESKTOP_SIGNALS, browser="Firefox"))
    assert bucket_of(firefox) != bucket_of(desktop())


def test_best_match_picks_the_most_similar() -> None:
    def known(device_id: str, components: dict[str, Any]) -> KnownDevice:
        return KnownDevice("acme", "web", device_id, None, "b", encode_components(components), 1, 1)

    near = known("near", desktop(timezone="UTC"))
    exact = known("exact", desktop())
    device, score = best_match(desktop(), [near, exact])
    assert device is exact and score == 1.0
    assert best_match(desktop(), []) == (None, 0.0)


async def test_identifier_on_a_real_store(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'identify.db'}")
    await store.open()
    try:
        await store.migrate()
        identifier = DeviceIdentifier(store)
        token = "t" * 24
        first = session_with({**DESKTOP_SIGNALS, "device_token": token})
        await identifier.identify(first)
        assert first.device.identified_by == "new" and first.signals.device_token is None
        assert first.device_id is not None and len(first.device_id) == 22
        by_token = session_with({**DESKTOP_SIGNALS, "device_token": token, "timezone": "UTC"})
        await identifier.identify(by_token)
        assert (by_token.device_id, by_token.device.identified_by) == (first.device_id, "token")
        # the device now carries the components last seen (time zone UTC); a new canvas hash
        by_print = session_with({**DESKTOP_SIGNALS, "timezone": "UTC", "canvas_hash": "new"})
        await identifier.identify(by_print)
        assert by_print.device_id == first.device_id
        assert by_print.device.identified_by == "fingerprint"
        other_site = session_with({**DESKTOP_SIGNALS, "device_token": token}, site="shop")
        await identifier.identify(other_site)
        assert other_site.device_id != first.device_id  # devices belong to one site
        thin = session_with({"timezone": "UTC"})
        await identifier.identify(thin)
        assert thin.device_id is None and thin.device.identified_by is None
    finally:
        await store.close()
