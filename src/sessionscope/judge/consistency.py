"""Whether a browser's descriptions of itself agree: the user agent string, the client
hints and `navigator.platform`. A tool that changes only one of them is caught here."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sessionscope.enrich.ua import HINT_PLATFORMS, ClientHints, UserAgentInfo, parse_user_agent

# Browsers that never send client hints: Chromium is the only engine that has them.
NON_CHROMIUM = frozenset({"Firefox", "Safari", "Internet Explorer", "Safari WebView"})
# UA platform -> prefixes `navigator.platform` starts with on that platform.
NAVIGATOR_PLATFORMS: Mapping[str, tuple[str, ...]] = {
    "Windows": ("Win",),
    "macOS": ("Mac",),
    "iOS": ("iPhone", "iPad", "iPod", "Mac"),
    "Android": ("Linux", "Android"),
    "Linux": ("Linux", "X11", "FreeBSD"),
    "ChromeOS": ("Linux", "CrOS"),
}
# (UA platform, hint platform) pairs that real browsers produce: Chrome on Android asked
# for the desktop site sends a Linux user agent with the Android hint.
_ALLOWED_PLATFORM_PAIRS = frozenset({("Linux", "Android")})
_CHROME_TOKEN = re.compile(r"\bChrome/(\d+)")
_CHROMIUM_BRANDS = ("Chromium", "Google Chrome", "Microsoft Edge", "Opera")
_DESKTOP_PLATFORMS = frozenset({"Windows", "macOS"})


def ua_only(user_agent: str) -> UserAgentInfo:
    """The user agent string parsed alone, before client hints correct it (cached parse)."""
    return parse_user_agent(user_agent)


def hints_mismatches(
    user_agent: str, parsed: UserAgentInfo, hints: ClientHints | None
) -> list[str]:
    """How the client hints contradict the user agent string (parsed without the hints)."""
    if hints is None or parsed.is_crawler:
        return []
    browser = parsed.browser.type
    platform = parsed.device.platform
    if browser in NON_CHROMIUM or platform == "iOS":
        claimed = browser or "an iOS browser"
        return [f"the browser sends client hints, which only Chromium sends, yet claims {claimed}"]
    found = [
        _platform_mismatch(platform, hints),
        _version_mismatch(user_agent, hints),
        _mobile_mismatch(user_agent, platform, hints),
    ]
    return [reason for reason in found if reason]


def _platform_mismatch(platform: str | None, hints: ClientHints) -> str | None:
    hinted = HINT_PLATFORMS.get((hints.platform or "").lower())
    if platform is None or hinted is None or hinted == platform:
        return None
    if (platform, hinted) in _ALLOWED_PLATFORM_PAIRS:
        return None
    return f"the user agent says {platform} but the client hints say {hinted}"


def _version_mismatch(user_agent: str, hints: ClientHints) -> str | None:
    token = _CHROME_TOKEN.search(user_agent)
    brands = dict(hints.brands)
    hinted = next((brands[name] for name in _CHROMIUM_BRANDS if name in brands), None)
    if token is None or not hinted:
        return None
    major = hinted.split(".")[0]
    if major == token.group(1):
        return None
    return f"the user agent says Chrome {token.group(1)} but the client hints say {major}"


def _mobile_mismatch(user_agent: str, platform: str | None, hints: ClientHints) -> str | None:
    if hints.mobile is True and platform in _DESKTOP_PLATFORMS:
        return f"the client hints say mobile but the user agent is a {platform} desktop"
    if hints.mobile is False and platform == "Android" and "Mobile" in user_agent:
        return "the user agent is an Android phone but the client hints say not mobile"
    return None


def navigator_platform_mismatch(ua_platform: str | None, navigator: str | None) -> str | None:
    """How `navigator.platform` contradicts the platform the user agent names."""
    prefixes = NAVIGATOR_PLATFORMS.get(ua_platform or "")
    if not prefixes or not navigator or not navigator.strip():
        return None
    if navigator.strip().startswith(prefixes):
        return None
    return f"the user agent says {ua_platform} but navigator.platform is {navigator.strip()!r}"
