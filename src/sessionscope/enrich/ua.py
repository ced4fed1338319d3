"""User agent and client hints -> device and browser.

`parse_user_agent` parses the UA string with ua-parser (Rust regex resolver) behind
an LRU cache, then lets client hints correct what browsers freeze in the UA string:
the real Windows/macOS/Android version, the Android model and the full browser
version. Unknown values stay None; nothing is guessed beyond what the strings say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

import msgspec
from ua_parser import OS, Device, Domain, Parser, UserAgent, load_lazy_builtins
from ua_parser.regex import Resolver as RegexResolver

from sessionscope import model
from sessionscope.model import DeviceCategory

CACHE_SIZE: Final = 20_000
# Only this much of a UA string is parsed and used as the cache key: real user agents
# are far shorter, and it bounds both regex work and cache memory.
MAX_PARSED_LENGTH: Final = 1024
_MAX_HINT_TEXT: Final = 128
_MAX_BRANDS: Final = 12


class ClientHints(msgspec.Struct, kw_only=True):
    """User-agent client hints, from Sec-CH-UA-* headers or navigator.userAgentData.

    `brands` holds (brand, version) pairs without GREASE entries; the versions are full
    versions when `full_versions` is true (from the full version list), else majors.
    """

    brands: list[tuple[str, str]] = []
    full_versions: bool = False
    platform: str | None = None
    platform_version: str | None = None
    mobile: bool | None = None
    model: str | None = None
    form_factors: list[str] = []


class UserAgentInfo(msgspec.Struct, kw_only=True):
    device: model.Device
    browser: model.Browser
    is_crawler: bool = False
    crawler_name: str | None = None
    is_headless: bool = False


# ---- client hints -------------------------------------------------------------------

# One sf-list item with its v parameter: "Chromium";v="137". Other parameters never occur.
_SF_BRAND = re.compile(r'"((?:[^"\\]|\\.)*)"\s*;\s*v\s*=\s*"?((?:[^"\\,;]|\\.)*)"?')
_SF_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SF_ESCAPE = re.compile(r"\\(.)")
# Chromium's GREASE brands look like "Not/A)Brand", " Not;A Brand", "Not_A Brand" ...
_GREASE_BRAND = re.compile(r"^[\W_]*not[\W_]*a[\W_]*brand[\W_]*$", re.IGNORECASE)


def _unescape(text: str) -> str:
    return _SF_ESCAPE.sub(r"\1", text) if "\\" in text else text


@lru_cache(maxsize=1024)  # a few distinct values per browser release
def _parse_brand_list(value: str) -> tuple[tuple[str, str], ...]:
    brands: list[tuple[str, str]] = []
    for brand, version in _SF_BRAND.findall(value):
        name = _unescape(brand)[:_MAX_HINT_TEXT]
        if not _GREASE_BRAND.match(name):
            brands.append((name, _unescape(version)[:_MAX_HINT_TEXT]))
    return tuple(brands[:_MAX_BRANDS])


def _parse_sf_string(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = _unescape(text[1:-1])
    text = text.strip()[:_MAX_HINT_TEXT]
    return text or None


def _parse_sf_boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    text = value.strip()
    if text == "?1":
        return True
    if text == "?0":
        return False
    return None


def _parse_string_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [_unescape(item)[:_MAX_HINT_TEXT] for item in _SF_STRING.findall(value)][:_MAX_BRANDS]


def _hints_or_none(hints: ClientHints) -> ClientHints | None:
    empty = ClientHints()
    return None if hints == empty else hints


def client_hints_from_headers(headers: Mapping[str, str]) -> ClientHints | None:
    """Read the Sec-CH-UA-* request headers (names are case-insensitive)."""
    found = {k.lower(): v for k, v in headers.items() if k[:9].lower() == "sec-ch-ua"}
    if not found:
        return None
    full_list = found.get("sec-ch-ua-full-version-list")
    brands = _parse_brand_list(full_list) if full_list else ()
    full_versions = bool(brands)
    if not brands:
        brands = _parse_brand_list(found.get("sec-ch-ua", ""))
    hints = ClientHints(
        brands=list(brands),
        full_versions=full_versions,
        platform=_parse_sf_string(found.get("sec-ch-ua-platform")),
        platform_version=_parse_sf_string(found.get("sec-ch-ua-platform-version")),
        mobile=_parse_sf_boolean(found.get("sec-ch-ua-mobile")),
        model=_parse_sf_string(found.get("sec-ch-ua-model")),
        form_factors=_parse_string_list(found.get("sec-ch-ua-form-factors")),
    )
    return _hints_or_none(hints)


def _text_field(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if not isinstance(value, str):
        return None
    return value.strip()[:_MAX_HINT_TEXT] or None


def _brand_entries(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    brands: list[tuple[str, str]] = []
    for entry in value[: _MAX_BRANDS * 2]:
        if not isinstance(entry, Mapping):
            continue
        brand, version = entry.get("brand"), entry.get("version")
        if isinstance(brand, str) and isinstance(version, str) and not _GREASE_BRAND.match(brand):
            brands.append((brand[:_MAX_HINT_TEXT], version[:_MAX_HINT_TEXT]))
    return brands[:_MAX_BRANDS]


def client_hints_from_ua_data(data: Mapping[str, Any]) -> ClientHints | None:
    """Read what the browser script sends from navigator.userAgentData.

    Accepts the low-entropy object (brands, mobile, platform) merged with the answer of
    getHighEntropyValues (fullVersionList, platformVersion, model, formFactors). Values
    of the wrong type are ignored: the object comes from an untrusted page.
    """
    brands = _brand_entries(data.get("fullVersionList"))
    full_versions = bool(brands)
    if not brands:
        brands = _brand_entries(data.get("brands"))
    mobile = data.get("mobile")
    factors = data.get("formFactors")
    hints = ClientHints(
        brands=brands,
        full_versions=full_versions,
        platform=_text_field(data, "platform"),
        platform_version=_text_field(data, "platformVersion"),
        mobile=mobile if isinstance(mobile, bool) else None,
        model=_text_field(data, "model"),
        form_factors=[f[:_MAX_HINT_TEXT] for f in factors if isinstance(f, str)][:_MAX_BRANDS]
        if isinstance(factors, list)
        else [],
    )
    return _hints_or_none(hints)


# ---- vocabulary tables --------------------------------------------------------------

# ua-parser family -> our browser type. Families not listed are kept as they are.
BROWSER_NAMES: Final[Mapping[str, str | None]] = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Amazon Silk": "Silk",
    "IE": "Internet Explorer",
    "IE Mobile": "Internet Explorer",
    "Other": None,
    # ua-parser families that name a device, a standard or a mail client, not a browser.
    "Roku": None,
    "HbbTV": None,
    "Apple Mail": None,
}
_APPLE_PLATFORMS: Final = frozenset({"macOS", "iOS", "tvOS", "watchOS"})

# ua-parser OS family -> our platform name.
PLATFORM_NAMES: Final[Mapping[str, str | None]] = {
    "Mac OS X": "macOS",
    "Mac OS": "macOS",
    "iOS": "iOS",
    "Android": "Android",
    "Chromecast Android": "Android",
    "Windows": "Windows",
    "Windows Phone": "Windows Phone",
    "Chrome OS": "ChromeOS",
    "Linux": "Linux",
    "Tizen": "Tizen",
    "KaiOS": "KaiOS",
    "Web0S": "webOS",
    "webOS": "webOS",
    "Roku": "Roku OS",
    "ATV OS X": "tvOS",
    "tvOS": "tvOS",
    "watchOS": "watchOS",
    "FreeBSD": "FreeBSD",
    "OpenBSD": "OpenBSD",
    "NetBSD": "NetBSD",
    "BlackBerry OS": "BlackBerry OS",
    "Other": None,
}
_LINUX_DISTRIBUTIONS: Final = frozenset(
    {"Ubuntu", "Kubuntu", "Debian", "Fedora", "Red Hat", "CentOS", "SUSE", "openSUSE",
     "Linux Mint", "Mint", "Arch Linux", "Gentoo", "Slackware", "Mandriva", "Raspbian"}
)  # fmt: skip

# Hint platform (Sec-CH-UA-Platform) -> our platform name.
HINT_PLATFORMS: Final[Mapping[str, str]] = {
    "windows": "Windows",
    "macos": "macOS",
    "android": "Android",
    "chrome os": "ChromeOS",
    "chromeos": "ChromeOS",
    "chromium os": "ChromeOS",
    "linux": "Linux",
    "ios": "iOS",
    "fuchsia": "Fuchsia",
}

# Hint brand -> our browser type, most specific first ("Chromium" is the fallback).
HINT_BRANDS: Final[tuple[tuple[str, str], ...]] = (
    ("Microsoft Edge", "Edge"),
    ("Opera", "Opera"),
    ("Opera GX", "Opera"),
    ("Brave", "Brave"),
    ("Samsung Internet", "Samsung Internet"),
    ("YaBrowser", "Yandex Browser"),
    ("Yandex", "Yandex Browser"),
    ("Vivaldi", "Vivaldi"),
    ("DuckDuckGo", "DuckDuckGo"),
    ("HeadlessChrome", "HeadlessChrome"),
    ("Android WebView", "Chrome WebView"),
    ("Google Chrome", "Chrome"),
    ("Chromium", "Chromium"),
)

_GENERIC_BRANDS: Final = frozenset(
    {"Generic", "Generic_Android", "Generic_Android_Tablet", "Generic_Inettv", "Spider"}
)
BRAND_NAMES: Final[Mapping[str, str]] = {"XiaoMi": "Xiaomi", "Oppo": "OPPO"}
# Model strings that carry no information (reduced UAs say "K"; some regexes capture words).
_PLACEHOLDER_MODELS: Final = frozenset(
    {"K", "Smartphone", "Tablet", "Browser", "Desktop", "AndroidTV", "Kindle", "wv", "Mobile"}
)

# Model-code prefix -> brand, for models that ua-parser leaves generic (client hints,
# reduced UAs, or regexes it lacks).
MODEL_BRANDS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"^(?:SM-|GT-|SAMSUNG)"), "Samsung"),
    (re.compile(r"^Pixel"), "Google"),
    (re.compile(r"^(?:Redmi|POCO|Mi |MI )"), "Xiaomi"),
    (re.compile(r"^(?:2\d{4}[0-9A-Z]{3,6}|M2\d{3}[A-Z]\d{1,2}[A-Z]{1,2})$"), "Xiaomi"),
    (re.compile(r"^(?:BRAVIA|XQ-|SO-\d)"), "Sony"),
    (re.compile(r"^SHIELD"), "NVIDIA"),
    (re.compile(r"^(?:AFT|KF)[A-Z0-9]+$"), "Amazon"),
    (re.compile(r"^(?:moto|motorola|XT\d{4})", re.IGNORECASE), "Motorola"),
    (re.compile(r"^(?:LM-|LG-)"), "LG"),
    (re.compile(r"^(?:HUAWEI|HONOR)", re.IGNORECASE), "Huawei"),
    (re.compile(r"^Lenovo"), "Lenovo"),
    (re.compile(r"^(?:ONEPLUS|OnePlus)"), "OnePlus"),
    (re.compile(r"^RMX\d"), "realme"),
    (re.compile(r"^CPH\d"), "OPPO"),
    (re.compile(r"^Nokia"), "Nokia"),
)  # fmt: skip

# Samsung model code (without its region suffix) -> marketing name. A small table of
# common devices; other codes are shown as "Samsung <code>". Pixels need no table: their
# user agents and client hints carry the marketing name ("Pixel 8").
SAMSUNG_MODELS: Final[Mapping[str, str]] = {
    "SM-S931": "Galaxy S25", "SM-S936": "Galaxy S25+", "SM-S938": "Galaxy S25 Ultra",
    "SM-S921": "Galaxy S24", "SM-S926": "Galaxy S24+", "SM-S928": "Galaxy S24 Ultra",
    "SM-S721": "Galaxy S24 FE",
    "SM-S911": "Galaxy S23", "SM-S916": "Galaxy S23+", "SM-S918": "Galaxy S23 Ultra",
    "SM-S711": "Galaxy S23 FE",
    "SM-S901": "Galaxy S22", "SM-S906": "Galaxy S22+", "SM-S908": "Galaxy S22 Ultra",
    "SM-G991": "Galaxy S21", "SM-G996": "Galaxy S21+", "SM-G998": "Galaxy S21 Ultra",
    "SM-G990": "Galaxy S21 FE",
    "SM-G981": "Galaxy S20", "SM-G986": "Galaxy S20+", "SM-G988": "Galaxy S20 Ultra",
    "SM-G780": "Galaxy S20 FE", "SM-G781": "Galaxy S20 FE 5G",
    "SM-G970": "Galaxy S10e", "SM-G973": "Galaxy S10", "SM-G975": "Galaxy S10+",
    "SM-G960": "Galaxy S9", "SM-G965": "Galaxy S9+",
    "SM-N970": "Galaxy Note10", "SM-N975": "Galaxy Note10+",
    "SM-N981": "Galaxy Note20", "SM-N986": "Galaxy Note20 Ultra",
    "SM-F711": "Galaxy Z Flip3", "SM-F721": "Galaxy Z Flip4", "SM-F731": "Galaxy Z Flip5",
    "SM-F741": "Galaxy Z Flip6",
    "SM-F926": "Galaxy Z Fold3", "SM-F936": "Galaxy Z Fold4", "SM-F946": "Galaxy Z Fold5",
    "SM-F956": "Galaxy Z Fold6",
    "SM-A556": "Galaxy A55 5G", "SM-A546": "Galaxy A54 5G", "SM-A536": "Galaxy A53 5G",
    "SM-A526": "Galaxy A52 5G", "SM-A525": "Galaxy A52", "SM-A528": "Galaxy A52s 5G",
    "SM-A515": "Galaxy A51", "SM-A505": "Galaxy A50",
    "SM-A356": "Galaxy A35 5G", "SM-A346": "Galaxy A34 5G", "SM-A336": "Galaxy A33 5G",
    "SM-A325": "Galaxy A32", "SM-A256": "Galaxy A25 5G", "SM-A245": "Galaxy A24",
    "SM-A155": "Galaxy A15", "SM-A156": "Galaxy A15 5G", "SM-A145": "Galaxy A14",
    "SM-A146": "Galaxy A14 5G", "SM-A135": "Galaxy A13", "SM-A125": "Galaxy A12",
    "SM-A055": "Galaxy A05", "SM-A057": "Galaxy A05s",
    "SM-X910": "Galaxy Tab S9 Ultra", "SM-X810": "Galaxy Tab S9+", "SM-X710": "Galaxy Tab S9",
    "SM-X716": "Galaxy Tab S9 5G", "SM-X510": "Galaxy Tab S9 FE", "SM-X610": "Galaxy Tab S9 FE+",
    "SM-X900": "Galaxy Tab S8 Ultra", "SM-X800": "Galaxy Tab S8+", "SM-X700": "Galaxy Tab S8",
    "SM-T870": "Galaxy Tab S7", "SM-T970": "Galaxy Tab S7+", "SM-P610": "Galaxy Tab S6 Lite",
    "SM-P615": "Galaxy Tab S6 Lite", "SM-X200": "Galaxy Tab A8", "SM-X110": "Galaxy Tab A9",
    "SM-X210": "Galaxy Tab A9+", "SM-T220": "Galaxy Tab A7 Lite", "SM-T225": "Galaxy Tab A7 Lite",
    "SM-T500": "Galaxy Tab A7", "SM-T505": "Galaxy Tab A7",
    "SM-R860": "Galaxy Watch4", "SM-R870": "Galaxy Watch4", "SM-R880": "Galaxy Watch4 Classic",
    "SM-R890": "Galaxy Watch4 Classic", "SM-R900": "Galaxy Watch5", "SM-R910": "Galaxy Watch5",
    "SM-R920": "Galaxy Watch5 Pro", "SM-R930": "Galaxy Watch6", "SM-R940": "Galaxy Watch6",
    "SM-R950": "Galaxy Watch6 Classic", "SM-R960": "Galaxy Watch6 Classic",
    "SM-R500": "Galaxy Watch Active", "SM-R820": "Galaxy Watch Active2",
    "SM-R830": "Galaxy Watch Active2",
}  # fmt: skip
_SAMSUNG_CODE = re.compile(r"^(SM-[A-Z]\d{3})")

# Amazon Fire tablets (KF...) and Fire TV devices (AFT...).
AMAZON_MODELS: Final[Mapping[str, str]] = {
    "KFTRWI": "Fire HD 10 (2021)", "KFTRPWI": "Fire HD 10 Plus (2021)",
    "KFMAWI": "Fire HD 10 (2019)", "KFONWI": "Fire HD 8 (2020)", "KFKAWI": "Fire HD 8 (2018)",
    "KFMUWI": "Fire 7 (2019)",
    "AFTMM": "Fire TV Stick 4K", "AFTKA": "Fire TV Stick 4K Max", "AFTSSS": "Fire TV Stick",
    "AFTSS": "Fire TV Stick Lite", "AFTT": "Fire TV Stick", "AFTR": "Fire TV Cube",
}  # fmt: skip

# ---- UA string patterns -------------------------------------------------------------

# Markers are plain substrings where possible: `in` is far cheaper than a regex scan.
_TV_MARKERS: Final = (
    "SMART-TV", "SmartTV", "Web0S", "webOS.TV", "NetCast", "HbbTV", "AppleTV", "Apple TV",
    "Roku/", "Android TV", "AndroidTV", "GoogleTV", "Google TV", "CrKey/", "BRAVIA", "SHIELD",
    "VIDAA", "PhilipsTV", "NETTV/", "Opera TV", "TV Safari",
)  # fmt: skip
_STREAMING_MARKERS: Final = ("Roku/", "AppleTV", "Apple TV", "CrKey/", "SHIELD")
_FIRE_TV_MODEL = re.compile(r"[;(] ?(AFT[A-Z0-9]{1,6})[;) ]")
_FIRE_TABLET_MODEL = re.compile(r"[;(] ?(KF[A-Z]{2,6})[;) ]")
_CONSOLE_MARKERS: Final = ("PlayStation", "Xbox", "Nintendo")
_XBOX_MODEL = re.compile(r"Xbox(?:; (Xbox (?:One|Series [XS])))?")
_PLAYSTATION_VERSION = re.compile(r"PlayStation(?: \w+)?[ /](\d+\.\d+)")
_WATCH = re.compile(r"\(Watch;|Watch ?OS|\bwatchOS\b|Wear ?OS|\bWatch\b", re.IGNORECASE)
_APPLE_DEVICE_OS_VERSION = re.compile(r"\bOS (\d+)[_.](\d+)(?:[_.](\d+))?")
_EMBEDDED_MARKERS: Final = ("Tesla/", "QtCarBrowser")
_TABLET_MARKERS: Final = ("Tablet", "iPad")
_MOBILE_MARKERS: Final = ("Mobi", "iPhone", "iPod", "Windows Phone", "BlackBerry", "Opera Mini")
_BOT_WORDS: Final = ("bot", "crawler", "spider", "scraper")
_BOT_KEYWORDS = re.compile(r"(?:bot|crawler|spider|scraper)[/;)]|\b(?:crawler|spider)\b|\bbot\b")
_TOKEN_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_ANDROID_MODEL = re.compile(
    r"Android [\d.]+;(?: [a-z]{2,3}(?:[-_][A-Za-z]{2,4})?;)? ([^;)]+?)(?: Build/[^;)]*)?[;)]"
)
# Non-browser HTTP clients that name themselves at the start of the string.
_HTTP_LIBRARY = re.compile(
    r"^(curl|Wget|python-requests|Python-urllib|python-httpx|aiohttp|Go-http-client|okhttp|"
    r"axios|node-fetch|undici|Java|Apache-HttpClient|libwww-perl|PostmanRuntime|insomnia|"
    r"HTTPie|GuzzleHttp|Ruby|PHP|Scrapy|Dart|reqwest|rest-client|Faraday|got)\b[/ ]?",
    re.IGNORECASE,
)
# Devices whose maker shows only as a product token in the UA string.
UA_TOKEN_BRANDS: Final = (("Roku/", "Roku"), ("Tesla/", "Tesla"))
# Browsers ua-parser does not name on some devices: (pattern with a version group, type).
FALLBACK_BROWSERS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\bNF/(\d+(?:\.\d+)*).*NintendoBrowser"), "NetFront NX"),
    (re.compile(r"^Opera/9\.80 .*\bVersion/(\d+(?:\.\d+)*)"), "Opera"),
)


# ---- the cached parse of the UA string ----------------------------------------------


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(RegexResolver(load_lazy_builtins()))


def _join_version(*parts: str | None) -> str | None:
    present: list[str] = []
    for part in parts:
        if part is None or part == "":
            break
        present.append(part)
    return ".".join(present) or None


def _trim_zeros(version: str) -> str:
    """Drop trailing zero parts: hint versions are always three numbers ("14.0.0" -> "14")."""
    parts = version.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def _clean_brand(brand: str | None) -> str | None:
    if brand is None or brand in _GENERIC_BRANDS:
        return None
    return BRAND_NAMES.get(brand, brand)


def _clean_model(model_name: str | None) -> str | None:
    if not model_name or model_name in _PLACEHOLDER_MODELS:
        return None
    return model_name


def brand_for_model(model_code: str) -> str | None:
    """The manufacturer a model code belongs to, by its well-known prefix."""
    for pattern, brand in MODEL_BRANDS:
        if pattern.match(model_code):
            return brand
    return None


class _Automation(msgspec.Struct, frozen=True):
    kind: str  # "crawler" or "http_library"
    name: str | None


def _automation(ua: str, agent: UserAgent | None, device: Device | None) -> _Automation | None:
    family = agent.family if agent and agent.family != "Other" else None
    library = _HTTP_LIBRARY.match(ua)
    if library:
        return _Automation("http_library", family or library.group(1))
    if device is not None and device.family == "Spider":
        return _Automation("crawler", family or _bot_token(ua))
    lowered = ua.lower()
    if _contains_any(lowered, _BOT_WORDS) and _BOT_KEYWORDS.search(lowered):
        return _Automation("crawler", _bot_token(ua) or family)
    return None


def _contains_any(text: str, markers: tuple[str, ...]) -> bool:
    return any(marker in text for marker in markers)


def _bot_token(ua: str) -> str | None:
    """The product name around the first bot word: "(compatible; FooBot/1.2)" -> "FooBot"."""
    lowered = ua.lower()
    found = [i for i in (lowered.find(word) for word in _BOT_WORDS) if i >= 0]
    if not found:
        return None
    start = end = min(found)
    while start > 0 and lowered[start - 1] in _TOKEN_CHARS:
        start -= 1
    while end < len(ua) and lowered[end] in _TOKEN_CHARS:
        end += 1
    return ua[start:end] or None


def _browser(
    ua: str, agent: UserAgent | None, platform: str | None
) -> tuple[str | None, str | None]:
    if agent is not None and agent.family in BROWSER_NAMES:
        name = BROWSER_NAMES[agent.family]
    else:
        name = agent.family if agent else None
    if name == "Safari" and platform not in _APPLE_PLATFORMS:
        name = None  # TVs and consoles ship WebKit with a "Safari" token; it is not Safari
    if agent is None or name is None:
        return _fallback_browser(ua)
    parsed = _join_version(agent.major, agent.minor, agent.patch, agent.patch_minor)
    return name, _full_version(ua, parsed) if parsed else None


def _full_version(ua: str, parsed: str) -> str:
    """The version as written in the UA: ua-parser keeps at most four parts and some
    regexes fewer ("OPR/119.0.0.0" parses as 119.0.0, "FBAV/460.0.0.40.109" as 460.0.0)."""
    start = ua.find(parsed)
    while start >= 0:
        end = start + len(parsed)
        starts_a_number = start == 0 or not (ua[start - 1].isdigit() or ua[start - 1] == ".")
        ends_a_part = end == len(ua) or not ua[end].isdigit()
        if starts_a_number and ends_a_part:
            return ua[start : _version_end(ua, end)]
        start = ua.find(parsed, start + 1)
    return parsed


def _version_end(ua: str, end: int) -> int:
    while end + 1 < len(ua) and ua[end] == "." and ua[end + 1].isdigit():
        end += 1
        while end < len(ua) and ua[end].isdigit():
            end += 1
    return end


def _fallback_browser(ua: str) -> tuple[str | None, str | None]:
    for pattern, name in FALLBACK_BROWSERS:
        match = pattern.search(ua)
        if match:
            return name, match.group(1)
    return None, None


def _platform(ua: str, os_: OS | None) -> tuple[str | None, str | None]:
    if os_ is None:
        return None, None
    family = os_.family
    if family in PLATFORM_NAMES:
        platform = PLATFORM_NAMES[family]
    elif family in _LINUX_DISTRIBUTIONS or "Linux" in family:
        return "Linux", None
    else:
        platform = family
    version = _join_version(os_.major, os_.minor, os_.patch, os_.patch_minor)
    if platform in ("tvOS", "watchOS") and version is None:
        version = _apple_device_os_version(ua)
    return platform, version


def _apple_device_os_version(ua: str) -> str | None:
    match = _APPLE_DEVICE_OS_VERSION.search(ua)
    return _join_version(*match.groups()) if match else None


def _brand_and_model(ua: str, device: Device | None) -> tuple[str | None, str | None]:
    brand = _clean_brand(device.brand) if device else None
    model_code = _clean_model(device.model) if device else None
    for prefix, pattern in (("AFT", _FIRE_TV_MODEL), ("KF", _FIRE_TABLET_MODEL)):
        amazon = pattern.search(ua) if prefix in ua else None
        if amazon:
            return "Amazon", amazon.group(1)
    if brand is None:
        model_code = model_code or _android_model(ua)
        brand = brand_for_model(model_code) if model_code else None
    return brand, model_code


def _android_model(ua: str) -> str | None:
    match = _ANDROID_MODEL.search(ua)
    return _clean_model(match.group(1).strip()) if match else None


def _category(ua: str, platform: str | None, model_code: str | None) -> DeviceCategory | None:
    if _is_tv(ua) or platform in ("tvOS", "Roku OS", "webOS"):
        return "smarttv"
    if _contains_any(ua, _CONSOLE_MARKERS):
        return "console"
    if _is_wearable(ua, model_code):
        return "wearable"
    if _contains_any(ua, _EMBEDDED_MARKERS):
        return "embedded"
    if _is_tablet(ua, platform, model_code):
        return "tablet"
    if _contains_any(ua, _MOBILE_MARKERS) or platform in ("iOS", "KaiOS", "Windows Phone"):
        return "mobile"
    if platform in ("Windows", "macOS", "Linux", "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD"):
        return "desktop"
    return None


def _is_tv(ua: str) -> bool:
    if _contains_any(ua, _TV_MARKERS):
        return True
    if "Tizen" in ua and " TV" in ua:
        return True
    return "AFT" in ua and _FIRE_TV_MODEL.search(ua) is not None


def _is_streaming_device(ua: str) -> bool:
    return _contains_any(ua, _STREAMING_MARKERS) or (
        "AFT" in ua and bool(_FIRE_TV_MODEL.search(ua))
    )


def _is_wearable(ua: str, model_code: str | None) -> bool:
    if model_code and (model_code.startswith("SM-R") or "Watch" in model_code):
        return True
    lowered = ua.lower()
    if "watch" not in lowered and "wear" not in lowered:
        return False
    return bool(_WATCH.search(ua))


def _is_tablet(ua: str, platform: str | None, model_code: str | None) -> bool:
    if _contains_any(ua, _TABLET_MARKERS):
        return True
    if "KF" in ua and _FIRE_TABLET_MODEL.search(ua):
        return True
    if model_code and model_code.startswith(("SM-T", "SM-X", "SM-P")):
        return True
    return platform == "Android" and "Mobile" not in ua


def _console_details(ua: str) -> tuple[str | None, str | None, str | None]:
    """(platform, brand, model) of a game console."""
    if "PlayStation" in ua:
        model_match = re.search(r"PlayStation (?:4|5|Vita|3|Portable)", ua)
        return "PlayStation", "Sony", model_match.group(0) if model_match else None
    if "Xbox" in ua:
        xbox = _XBOX_MODEL.search(ua)
        return "Xbox", "Microsoft", (xbox.group(1) if xbox and xbox.group(1) else "Xbox")
    nintendo = re.search(r"Nintendo (Switch|3DS|Wii ?U|Wii)", ua)
    return "Nintendo", "Nintendo", nintendo.group(1) if nintendo else None


_DESKTOP_TYPES: Final[Mapping[str | None, str]] = {
    "macOS": "Mac", "Windows": "Windows PC", "Linux": "Linux PC", "ChromeOS": "Chromebook",
}  # fmt: skip


def device_type(
    category: DeviceCategory | None, platform: str | None, model_code: str | None, ua: str = ""
) -> str | None:
    """A short, consistent device type such as "Mac", "iPhone" or "Android tablet"."""
    if category == "desktop":
        return _DESKTOP_TYPES.get(platform, "Desktop")
    if category == "mobile":
        if platform == "iOS":
            return "iPod" if model_code and model_code.startswith("iPod") else "iPhone"
        return "Android phone" if platform == "Android" else "Mobile phone"
    if category == "tablet":
        return {"iOS": "iPad", "Android": "Android tablet"}.get(platform or "", "Tablet")
    if category == "smarttv":
        return "Streaming device" if _is_streaming_device(ua) else "Smart TV"
    return {
        "console": "Game console",
        "wearable": "Smartwatch",
        "embedded": "Embedded device",
    }.get(category or "")


def device_name(
    brand: str | None, model_code: str | None, category: DeviceCategory | None, platform: str | None
) -> str | None:
    """A human-readable name: "Apple Macintosh", "Samsung Galaxy S23 Ultra", "Google Pixel 8"."""
    if brand == "Apple":
        return _apple_name(category, platform, model_code)
    if brand == "Samsung" and model_code:
        code = _SAMSUNG_CODE.match(model_code)
        marketing = SAMSUNG_MODELS.get(code.group(1)) if code else None
        return f"Samsung {marketing or model_code}"
    if brand == "Amazon" and model_code:
        return f"Amazon {AMAZON_MODELS.get(model_code, model_code)}"
    if brand and model_code:
        return model_code if model_code.startswith(brand) else f"{brand} {model_code}"
    return None


def _apple_name(
    category: DeviceCategory | None, platform: str | None, model_code: str | None
) -> str:
    if category == "desktop":
        return "Apple Macintosh"
    if category == "tablet":
        return "Apple iPad"
    if category == "smarttv":
        return "Apple TV"
    if category == "wearable":
        return "Apple Watch"
    if model_code and model_code.startswith("iPod"):
        return "Apple iPod touch"
    return "Apple iPhone" if platform == "iOS" else "Apple"


def _os_label(platform: str | None, version: str | None) -> str | None:
    if platform is None:
        return None
    return f"{platform} {version}" if version else platform


def _parse_string(ua: str) -> UserAgentInfo:
    """Everything the UA string alone says. Cached: the result must not be mutated."""
    result = _parser()(ua, Domain.ALL)
    automation = _automation(ua, result.user_agent, result.device)
    platform, os_version = _platform(ua, result.os)
    brand, model_code = _brand_and_model(ua, result.device)
    category: DeviceCategory | None = "other" if automation else _category(ua, platform, model_code)
    if category == "console":
        platform, brand, model_code = _console_details(ua)
        match = _PLAYSTATION_VERSION.search(ua)
        os_version = match.group(1) if match and platform == "PlayStation" else None
    elif category == "wearable" and platform == "Android":
        platform, os_version = "Wear OS", None
    elif category == "wearable" and brand == "Apple":
        platform, os_version, model_code = "watchOS", _apple_device_os_version(ua), None
    elif category == "smarttv" and platform is None and brand == "Apple":
        platform, os_version = "tvOS", _apple_device_os_version(ua)
    brand = brand or _brand_from_ua_tokens(ua)
    browser_type, browser_version = _browser(ua, result.user_agent, platform)
    device = model.Device(
        category=category,
        type=_automation_type(automation) or device_type(category, platform, model_code, ua),
        brand=brand,
        model=model_code,
        name=None if automation else device_name(brand, model_code, category, platform),
        os=_os_label(platform, os_version),
        os_version=os_version,
        platform=platform,
    )
    browser = model.Browser(type=browser_type, version=browser_version)
    return UserAgentInfo(
        device=device,
        browser=browser,
        is_crawler=automation is not None,
        crawler_name=automation.name if automation else None,
        is_headless=browser_type == "HeadlessChrome" or "Headless" in ua[:400],
    )


def _brand_from_ua_tokens(ua: str) -> str | None:
    for token, brand in UA_TOKEN_BRANDS:
        if token in ua:
            return brand
    return None


def _automation_type(automation: _Automation | None) -> str | None:
    if automation is None:
        return None
    return "Crawler" if automation.kind == "crawler" else "HTTP client"


_parse_cached = lru_cache(maxsize=CACHE_SIZE)(_parse_string)


# ---- client hints on top of the UA --------------------------------------------------


def _hint_browser(hints: ClientHints) -> tuple[str, str] | None:
    brands = dict(hints.brands)
    for brand, name in HINT_BRANDS:
        if brand in brands:
            return name, brands[brand]
    return None


def _windows_release(platform_version: str) -> str | None:
    """Sec-CH-UA-Platform-Version of Windows -> the marketing release."""
    try:
        major, _, rest = platform_version.partition(".")
        number = int(major)
        minor = int(rest.partition(".")[0] or 0)
    except ValueError:
        return None
    if number >= 13:
        return "11"
    if number >= 1:
        return "10"
    return {1: "7", 2: "8", 3: "8.1"}.get(minor)


def _apply_platform_hints(info: UserAgentInfo, hints: ClientHints) -> None:
    device = info.device
    platform = HINT_PLATFORMS.get((hints.platform or "").lower())
    if platform is None:
        return
    if device.category in ("console", "wearable", "smarttv") and platform != device.platform:
        return  # the UA names the device family more precisely than a generic platform
    version = hints.platform_version
    if platform == "Windows" and version:
        version = _windows_release(version)
    elif version:
        version = _trim_zeros(version)
    if version:
        device.os_version = version
    elif platform != device.platform:
        device.os_version = None
    if platform != device.platform and device.category in ("desktop", "mobile", "tablet"):
        device.type = device_type(device.category, platform, device.model)
    device.platform = platform
    device.os = _os_label(platform, device.os_version)


def _apply_model_hint(info: UserAgentInfo, hints: ClientHints) -> None:
    model_code = _clean_model(hints.model)
    if model_code is None:
        return
    device = info.device
    device.model = model_code
    device.brand = _brand_from_model_hint(model_code) or device.brand
    if device.category in ("tablet", "mobile") and _is_wearable("", model_code):
        device.category = "wearable"
    device.name = device_name(device.brand, model_code, device.category, device.platform)


@lru_cache(maxsize=4096)
def _brand_from_model_hint(model_code: str) -> str | None:
    # ua-parser's device table knows far more brands than our prefixes: ask it about a
    # UA built around the model, as Chrome would have sent before UA reduction.
    synthetic = f"Mozilla/5.0 (Linux; Android 14; {model_code}) AppleWebKit/537.36 Mobile Safari"
    parsed = _parser()(synthetic, Domain.DEVICE).device
    return (_clean_brand(parsed.brand) if parsed else None) or brand_for_model(model_code)


_FORM_FACTORS: Final[Mapping[str, DeviceCategory]] = {
    "desktop": "desktop", "mobile": "mobile", "tablet": "tablet", "watch": "wearable",
    "automotive": "embedded", "eink": "tablet",
}  # fmt: skip


def _apply_category_hints(info: UserAgentInfo, hints: ClientHints) -> None:
    device = info.device
    if device.category in ("other", "smarttv", "console", "wearable"):
        return
    factors = [_FORM_FACTORS[f.lower()] for f in hints.form_factors if f.lower() in _FORM_FACTORS]
    category = factors[0] if factors else None
    if category is None and hints.mobile and device.category in (None, "desktop"):
        category = "mobile"
    if category and category != device.category:
        device.category = category
        device.type = device_type(category, device.platform, device.model)
        device.name = device_name(device.brand, device.model, category, device.platform)


def _apply_browser_hints(info: UserAgentInfo, hints: ClientHints) -> None:
    found = _hint_browser(hints)
    if found is None:
        return
    name, version = found
    browser = info.browser
    if name == "Chromium" and browser.type not in (None, "Chromium"):
        return  # "Chromium" alone says less than the UA string does
    browser.type = name
    if hints.full_versions or browser.version is None or browser.version.split(".")[0] != version:
        browser.version = version


def apply_client_hints(info: UserAgentInfo, hints: ClientHints) -> None:
    """Correct a (copied) UA parse with client hints, in place."""
    if info.is_crawler:
        return
    _apply_platform_hints(info, hints)
    _apply_model_hint(info, hints)
    _apply_category_hints(info, hints)
    _apply_browser_hints(info, hints)
    if info.browser.type == "HeadlessChrome":
        info.is_headless = True


def _copy(info: UserAgentInfo, user_agent: str | None) -> UserAgentInfo:
    device = msgspec.structs.replace(info.device)
    browser = msgspec.structs.replace(info.browser, user_agent=user_agent)
    return msgspec.structs.replace(info, device=device, browser=browser)


def parse_user_agent(user_agent: str, hints: ClientHints | None = None) -> UserAgentInfo:
    """Device and browser from a UA string, corrected by client hints where present.

    The result is a fresh object that the caller may change.
    """
    info = _copy(_parse_cached(user_agent[:MAX_PARSED_LENGTH]), user_agent or None)
    if hints is not None:
        apply_client_hints(info, hints)
    return info


def cache_info() -> Any:
    """Hits, misses and size of the UA cache (for metrics)."""
    return _parse_cached.cache_info()
