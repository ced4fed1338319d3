"""What the reported hardware says: software, virtual-machine and emulator GPUs, and
combinations no real device has."""

from __future__ import annotations

from functools import lru_cache

from sessionscope.model import BrowserSignals, DeviceCategory

# Substrings of WebGL's unmasked renderer (lower case) -> what they reveal.
SOFTWARE_RENDERERS = {
    "swiftshader": "SwiftShader (software rendering, typical of headless Chrome)",
    "llvmpipe": "llvmpipe (Mesa software rendering)",
    "softpipe": "softpipe (Mesa software rendering)",
    "mesa offscreen": "Mesa OffScreen (software rendering)",
    "microsoft basic render driver": "Microsoft Basic Render Driver (no GPU driver)",
    "apple software renderer": "Apple Software Renderer",
    "gdi generic": "GDI Generic (software rendering)",
}
VIRTUAL_MACHINE_RENDERERS = {
    "virtualbox": "VirtualBox",
    "vmware": "VMware",
    "svga3d": "VMware SVGA",
    "parallels": "Parallels",
    "qemu": "QEMU",
    "virgl": "virgl (QEMU/KVM)",
    "virtio": "VirtIO GPU",
    "hyper-v": "Hyper-V",
}
EMULATOR_RENDERERS = {
    "android emulator": "the Android Emulator",
    "android sdk built for": "the Android SDK emulator",
    "bluestacks": "BlueStacks",
    "genymotion": "Genymotion",
}
# GPU families that exist only in desktops and laptops.
DESKTOP_GPUS = ("geforce", "radeon rx", "radeon pro", "quadro", "nvidia rtx")
_PHONE_LIKE: frozenset[DeviceCategory | None] = frozenset({"mobile", "tablet", "wearable"})
MAX_CORES = 256
MAX_MEMORY_GB = 1024.0
_VIEWPORT_SLACK = 1.1


@lru_cache(maxsize=4096)  # a few hundred distinct renderers make up nearly all traffic
def _classify(renderer: str) -> tuple[str | None, str | None, str | None]:
    """(software renderer, virtual machine, emulator) a renderer string names."""
    lowered = renderer.lower()

    def named(table: dict[str, str]) -> str | None:
        return next((name for marker, name in table.items() if marker in lowered), None)

    return named(SOFTWARE_RENDERERS), named(VIRTUAL_MACHINE_RENDERERS), named(EMULATOR_RENDERERS)


def software_renderer(renderer: str | None) -> str | None:
    return _classify(renderer)[0] if renderer else None


def virtual_machine_gpu(renderer: str | None) -> str | None:
    return _classify(renderer)[1] if renderer else None


def emulator_gpu(renderer: str | None) -> str | None:
    return _classify(renderer)[2] if renderer else None


def impossible_hardware(signals: BrowserSignals) -> list[str]:
    """Reasons the reported hardware cannot belong to any real device."""
    reasons = []
    cores = signals.hardware_concurrency
    if cores is not None and not 1 <= cores <= MAX_CORES:
        reasons.append(f"the browser reports {cores} CPU cores")
    memory = signals.device_memory
    if memory is not None and not 0 < memory <= MAX_MEMORY_GB:
        reasons.append(f"the browser reports {memory:g} GB of memory")
    if signals.screen_width == 0 or signals.screen_height == 0:
        reasons.append(f"the screen measures {signals.screen_width}x{signals.screen_height} pixels")
    if _viewport_exceeds_screen(signals):
        reasons.append(
            f"the window ({signals.viewport_width}x{signals.viewport_height}) is larger than "
            f"the screen ({signals.screen_width}x{signals.screen_height})"
        )
    return reasons


def hardware_contradicts_device(
    signals: BrowserSignals, category: DeviceCategory | None
) -> list[str]:
    """Reasons the reported hardware cannot belong to the kind of device claimed."""
    renderer = (signals.gpu_renderer or "").lower()
    if category in _PHONE_LIKE and any(gpu in renderer for gpu in DESKTOP_GPUS):
        return [f"a {category} device reports the desktop GPU {signals.gpu_renderer!r}"]
    return []


def _viewport_exceeds_screen(signals: BrowserSignals) -> bool:
    sizes = (
        signals.viewport_width,
        signals.viewport_height,
        signals.screen_width,
        signals.screen_height,
    )
    if any(size is None or size == 0 for size in sizes):
        return False
    width, height, screen_width, screen_height = (int(size or 0) for size in sizes)
    # A window on a second, larger monitor can exceed `screen` (which describes the
    # primary one) in one direction; beyond it in both, no real window is.
    return width > screen_width * _VIEWPORT_SLACK and height > screen_height * _VIEWPORT_SLACK
