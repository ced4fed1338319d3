"""Browser-reported signals onto the session's device and browser parts (pure)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sessionscope.enrich.signals import apply_signals, is_emulated, platform_name
from sessionscope.model import Browser, BrowserSignals, Device, DeviceCategory, Session
from tests.collecting import DESKTOP_SIGNALS


def session_with(signals: dict[str, Any], device: Device | None = None) -> Session:
    return Session(
        id="s",
        tenant="t",
        site="web",
        site_uuid="u",
        version=1,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        last_seen_at="2026-01-01T00:00:00.000Z",
        expires_at=None,
        state="anonymous",
        status="active",
        device=device or Device(category="desktop", platform="Windows", os="Windows 10"),
        browser=Browser(type="Chrome", language="fr"),
        signals=msgspec.convert(signals, BrowserSignals),
    )


def test_reported_hardware_and_locale_fill_the_parts() -> None:
    session = session_with(DESKTOP_SIGNALS)
    apply_signals(session)
    device, browser = session.device, session.browser
    assert (device.cpu_cores, device.memory) == (12, 8)
    assert (device.screen_width, device.screen_height, device.touch_points) == (2560, 1440, 0)
    assert device.gpu is not None and "RTX 3060" in device.gpu
    assert device.emulated is False
    assert (device.platform, device.os) == ("Windows", "Windows 10")  # the parse names it better
    assert browser.language == "de-DE" and browser.languages == ["de-DE", "de", "en"]
    assert browser.timezone == "Europe/Berlin"


def test_nothing_reported_keeps_what_was_there() -> None:
    session = session_with({})
    apply_signals(session)
    assert session.browser.language == "fr"
    assert session.device.cpu_cores is None and session.device.emulated is None


def test_navigator_platform_fills_only_an_unknown_platform() -> None:
    session = session_with({"platform": "MacIntel"}, Device(category="desktop"))
    apply_signals(session)
    assert session.device.platform == "macOS"
    assert platform_name("Linux aarch64") == "Linux"
    assert platform_name("Nintendo Switch") is None


@pytest.mark.parametrize(
    ("category", "signals", "emulated"),
    [
        ("mobile", {"touch_points": 0, "gpu_renderer": "Adreno (TM) 740"}, True),
        ("mobile", {"touch_points": 5, "gpu_renderer": "Adreno (TM) 740"}, False),
        ("mobile", {"touch_points": 5, "gpu_renderer": "Google SwiftShader"}, True),
        ("mobile", {"gpu_renderer": "Android Emulator OpenGL ES Translator (goldfish)"}, True),
        ("desktop", {"touch_points": 0, "gpu_renderer": "SVGA3D; build: RELEASE; VMware"}, True),
        ("desktop", {"touch_points": 0, "gpu_renderer": "llvmpipe (LLVM 15.0.6, 256 bits)"}, False),
        ("desktop", {"touch_points": 10}, False),
        ("desktop", {}, None),
    ],
)
def test_emulated(category: DeviceCategory, signals: dict[str, Any], emulated: bool | None) -> None:
    reported = msgspec.convert(signals, BrowserSignals)
    assert is_emulated(Device(category=category), reported) is emulated
