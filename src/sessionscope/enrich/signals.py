"""Browser-reported signals onto the session's `device` and `browser` parts.

Runs after the user-agent parse. What the browser measured itself (hardware, screen, GPU,
touch points, languages, time zone) is more precise than anything a user-agent string can
say, so it wins; the parse keeps what it names better (platform, OS and its version,
brand, model), and `navigator.platform` only fills a platform the parse left unknown.
"""

from __future__ import annotations

import re

from sessionscope.model import BrowserSignals, Device, Session

# Renderers of emulators and virtual machines: the device is not the hardware it claims.
_VIRTUAL_GPU = re.compile(
    r"android emulator|android sdk built for|goldfish|ranchu|vmware|virtualbox"
    r"|parallels|microsoft basic render driver|bochs|qxl|virtio",
    re.IGNORECASE,
)
# A software renderer on a phone or tablet: real handsets always have a GPU.
_SOFTWARE_GPU = re.compile(r"swiftshader|llvmpipe|softpipe", re.IGNORECASE)
_PLATFORM_PREFIXES = (
    ("Win", "Windows"),
    ("Mac", "macOS"),
    ("iPhone", "iOS"),
    ("iPod", "iOS"),
    ("iPad", "iOS"),
    ("Linux", "Linux"),
    ("CrOS", "ChromeOS"),
)


def apply_signals(session: Session) -> None:
    """Lay the reported signals over the parts; unreported values stay as they were."""
    signals = session.signals
    _apply_hardware(session.device, signals)
    browser = session.browser
    languages = list(signals.languages) if signals.languages else None
    browser.languages = languages or browser.languages
    browser.language = signals.language or (languages[0] if languages else browser.language)
    browser.timezone = signals.timezone or browser.timezone


def _apply_hardware(device: Device, signals: BrowserSignals) -> None:
    if signals.hardware_concurrency:
        device.cpu_cores = signals.hardware_concurrency
    if signals.device_memory:
        device.memory = signals.device_memory
    if signals.gpu_renderer:
        device.gpu = signals.gpu_renderer
    if signals.screen_width and signals.screen_height:
        device.screen_width = signals.screen_width
        device.screen_height = signals.screen_height
    if signals.touch_points is not None:
        device.touch_points = signals.touch_points
    if device.platform is None and signals.platform:
        device.platform = platform_name(signals.platform)
    emulated = is_emulated(device, signals)
    if emulated is not None:
        device.emulated = emulated


def platform_name(reported: str) -> str | None:
    """`navigator.platform` ("Win32", "MacIntel", "Linux x86_64") as a platform name."""
    for prefix, name in _PLATFORM_PREFIXES:
        if reported.startswith(prefix):
            return name
    return None


def is_emulated(device: Device, signals: BrowserSignals) -> bool | None:
    """Whether the device is emulated or virtual; None without the evidence to say."""
    renderer = signals.gpu_renderer
    if renderer is None and signals.touch_points is None:
        return None
    if renderer is not None and _VIRTUAL_GPU.search(renderer):
        return True
    handheld = device.category in ("mobile", "tablet")
    if handheld and renderer is not None and _SOFTWARE_GPU.search(renderer):
        return True
    # A phone's browser without a touch screen is a desktop browser emulating one.
    return handheld and signals.touch_points == 0
