"""User agent and client hints parsing, checked against a corpus of real user agents."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionscope.enrich.ua import (
    ClientHints,
    client_hints_from_headers,
    client_hints_from_ua_data,
    parse_user_agent,
)

CORPUS_PATH = Path(__file__).resolve().parents[1] / "data" / "ua_corpus.json"
CORPUS: list[dict[str, Any]] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))

# Optional expectations a corpus entry may carry, and where each is found in the result.
OPTIONAL_FIELDS = {
    "os_full": lambda info: info.device.os,
    "browser_version": lambda info: info.browser.version,
    "device_name": lambda info: info.device.name,
    "device_type": lambda info: info.device.type,
    "device_brand": lambda info: info.device.brand,
    "device_model": lambda info: info.device.model,
    "is_crawler": lambda info: info.is_crawler,
    "is_headless": lambda info: info.is_headless,
}

WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/137.0.0.0 Safari/537.36"
)
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/137.0.0.0 Safari/537.36"
)
REDUCED_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/137.0.0.0 Mobile Safari/537.36"
)
CHROME_BRANDS = '"Chromium";v="137", "Not/A)Brand";v="24", "Google Chrome";v="137"'


def test_corpus_is_large_and_covers_every_category() -> None:
    assert len(CORPUS) >= 70
    categories = Counter(entry["category"] for entry in CORPUS)
    for category in ("desktop", "mobile", "tablet", "smarttv", "console", "wearable", "other"):
        assert categories[category] >= 1, category


@pytest.mark.parametrize(
    "entry", CORPUS, ids=[f"{i:03d}-{e['ua'][:40]}" for i, e in enumerate(CORPUS)]
)
def test_corpus_entry(entry: dict[str, Any]) -> None:
    info = parse_user_agent(entry["ua"])
    assert info.device.category == entry["category"]
    assert info.browser.type == entry["browser"]
    assert info.device.platform == entry["os"]
    assert info.browser.user_agent == entry["ua"]
    for field, read in OPTIONAL_FIELDS.items():
        if field in entry:
            assert read(info) == entry[field], field
    if entry["category"] == "other":
        assert info.is_crawler
        assert info.crawler_name


def test_unknown_user_agent_gives_none_not_guesses() -> None:
    info = parse_user_agent("garbage")
    assert info.device.category is None
    assert info.device.os is None
    assert info.browser.type is None
    assert not info.is_crawler
    empty = parse_user_agent("")
    assert empty.browser.user_agent is None
    assert empty.device.category is None


def test_results_are_independent_copies() -> None:
    first = parse_user_agent(MAC_CHROME)
    first.device.screen_width = 1440
    first.browser.language = "en-GB"
    second = parse_user_agent(MAC_CHROME)
    assert second.device.screen_width is None
    assert second.browser.language is None


def test_very_long_user_agent_is_parsed_on_its_head() -> None:
    long_ua = MAC_CHROME + " " + "x" * 5000
    info = parse_user_agent(long_ua)
    assert info.browser.type == "Chrome"
    assert info.browser.user_agent == long_ua


# ---- client hints from headers ------------------------------------------------------


def test_headers_parse_structured_fields_and_drop_grease() -> None:
    hints = client_hints_from_headers(
        {
            "Sec-CH-UA": CHROME_BRANDS,
            "Sec-CH-UA-Mobile": "?0",
            "Sec-CH-UA-Platform": '"Windows"',
            "Sec-CH-UA-Platform-Version": '"15.0.0"',
            "Sec-CH-UA-Model": '""',
        }
    )
    assert hints == ClientHints(
        brands=[("Chromium", "137"), ("Google Chrome", "137")],
        platform="Windows",
        platform_version="15.0.0",
        mobile=False,
    )


def test_header_names_are_case_insensitive_and_full_versions_win() -> None:
    hints = client_hints_from_headers(
        {
            "sec-ch-ua": CHROME_BRANDS,
            "SEC-CH-UA-FULL-VERSION-LIST": (
                '"Chromium";v="137.0.7151.69", "Not/A)Brand";v="24.0.0.0", '
                '"Google Chrome";v="137.0.7151.69"'
            ),
            "sec-ch-ua-mobile": "?1",
            "sec-ch-ua-model": '"SM-S918B"',
        }
    )
    assert hints is not None
    assert hints.full_versions
    assert hints.brands == [("Chromium", "137.0.7151.69"), ("Google Chrome", "137.0.7151.69")]
    assert hints.mobile is True
    assert hints.model == "SM-S918B"


@pytest.mark.parametrize(
    "grease", ["Not/A)Brand", " Not;A Brand", "Not_A Brand", "Not?A_Brand", "(Not(A:Brand"]
)
def test_grease_brands_are_ignored(grease: str) -> None:
    hints = client_hints_from_headers({"Sec-CH-UA": f'"{grease}";v="99", "Chromium";v="137"'})
    assert hints is not None
    assert hints.brands == [("Chromium", "137")]


def test_escaped_quotes_in_brand_names() -> None:
    hints = client_hints_from_headers({"Sec-CH-UA": r'"Odd \"Brand\"";v="1"'})
    assert hints is not None
    assert hints.brands == [('Odd "Brand"', "1")]


def test_no_client_hint_headers_gives_none() -> None:
    assert client_hints_from_headers({"User-Agent": "curl/8.5.0", "Accept": "*/*"}) is None
    assert client_hints_from_headers({"Sec-CH-UA-Mobile": "maybe"}) is None


# ---- client hints from navigator.userAgentData ---------------------------------------


def test_ua_data_with_high_entropy_values() -> None:
    hints = client_hints_from_ua_data(
        {
            "brands": [
                {"brand": "Google Chrome", "version": "137"},
                {"brand": "Not/A)Brand", "version": "24"},
            ],
            "mobile": True,
            "platform": "Android",
            "platformVersion": "14.0.0",
            "model": "SM-S918B",
            "fullVersionList": [{"brand": "Google Chrome", "version": "137.0.7151.61"}],
            "formFactors": ["Mobile"],
        }
    )
    assert hints == ClientHints(
        brands=[("Google Chrome", "137.0.7151.61")],
        full_versions=True,
        platform="Android",
        platform_version="14.0.0",
        mobile=True,
        model="SM-S918B",
        form_factors=["Mobile"],
    )


def test_ua_data_ignores_values_of_the_wrong_type() -> None:
    hints = client_hints_from_ua_data(
        {
            "brands": [
                {"brand": 7, "version": "1"},
                "Chrome",
                {"brand": "Chromium", "version": "137"},
            ],
            "mobile": "yes",
            "platform": ["Windows"],
            "model": None,
            "formFactors": "Desktop",
        }
    )
    assert hints == ClientHints(brands=[("Chromium", "137")])
    assert client_hints_from_ua_data({"mobile": "no"}) is None


# ---- hints applied on top of the UA --------------------------------------------------


@pytest.mark.parametrize(
    ("platform_version", "expected_os"),
    [
        ("15.0.0", "Windows 11"),
        ("13.0.0", "Windows 11"),
        ("10.0.0", "Windows 10"),
        ("0.3.0", "Windows 8.1"),
    ],
)
def test_windows_release_from_platform_version(platform_version: str, expected_os: str) -> None:
    hints = ClientHints(platform="Windows", platform_version=platform_version)
    info = parse_user_agent(WINDOWS_CHROME, hints)
    assert info.device.os == expected_os


def test_frozen_macos_version_is_replaced() -> None:
    info = parse_user_agent(MAC_CHROME, ClientHints(platform="macOS", platform_version="14.5.0"))
    assert info.device.os == "macOS 14.5"
    assert info.device.os_version == "14.5"
    assert info.device.name == "Apple Macintosh"


def test_reduced_android_ua_gets_real_model_and_version() -> None:
    hints = ClientHints(
        brands=[("Google Chrome", "137.0.7151.61")],
        full_versions=True,
        platform="Android",
        platform_version="14.0.0",
        mobile=True,
        model="SM-S918B",
    )
    without = parse_user_agent(REDUCED_ANDROID)
    assert without.device.model is None
    info = parse_user_agent(REDUCED_ANDROID, hints)
    assert info.device.os == "Android 14"
    assert info.device.brand == "Samsung"
    assert info.device.model == "SM-S918B"
    assert info.device.name == "Samsung Galaxy S23 Ultra"
    assert info.device.category == "mobile"
    assert info.browser.type == "Chrome"
    assert info.browser.version == "137.0.7151.61"


def test_model_hint_of_a_brand_outside_our_tables() -> None:
    hints = ClientHints(platform="Android", platform_version="15.0.0", model="Pixel 9 Pro")
    info = parse_user_agent(REDUCED_ANDROID, hints)
    assert info.device.brand == "Google"
    assert info.device.name == "Google Pixel 9 Pro"


def test_major_only_hint_keeps_the_fuller_ua_version() -> None:
    info = parse_user_agent(MAC_CHROME, ClientHints(brands=[("Brave", "137"), ("Chromium", "137")]))
    assert info.browser.type == "Brave"
    assert info.browser.version == "137.0.0.0"


def test_edge_brand_wins_over_chromium() -> None:
    hints = ClientHints(brands=[("Chromium", "137"), ("Microsoft Edge", "137")])
    assert parse_user_agent(WINDOWS_CHROME, hints).browser.type == "Edge"


def test_mobile_hint_on_a_desktop_ua() -> None:
    linux = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/137.0.0.0 Safari/537.36"
    )
    info = parse_user_agent(linux, ClientHints(platform="Android", mobile=True))
    assert info.device.category == "mobile"
    assert info.device.platform == "Android"
    assert info.device.type == "Android phone"


def test_form_factor_hint_sets_the_category() -> None:
    info = parse_user_agent(
        REDUCED_ANDROID, ClientHints(platform="Android", form_factors=["Tablet"])
    )
    assert info.device.category == "tablet"


def test_hints_do_not_turn_a_tv_into_a_generic_android() -> None:
    bravia = next(e["ua"] for e in CORPUS if "BRAVIA" in e["ua"])
    info = parse_user_agent(bravia, ClientHints(platform="Android", platform_version="12.0.0"))
    assert info.device.category == "smarttv"


def test_hints_never_change_a_crawler() -> None:
    info = parse_user_agent("curl/8.5.0", ClientHints(platform="Windows", mobile=True))
    assert info.device.category == "other"
    assert info.device.platform is None


def test_hints_do_not_leak_into_the_cache() -> None:
    parse_user_agent(WINDOWS_CHROME, ClientHints(platform="Windows", platform_version="15.0.0"))
    assert parse_user_agent(WINDOWS_CHROME).device.os == "Windows 10"


# ---- robustness ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_without_error(text: str) -> None:
    info = parse_user_agent(text)
    assert info.device.category in (
        None, "desktop", "mobile", "tablet", "console", "smarttv", "wearable", "embedded", "other"
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["Sec-CH-UA", "sec-ch-ua-platform", "Sec-CH-UA-Mobile",
                                        "Sec-CH-UA-Full-Version-List", "Sec-CH-UA-Model"]),
                       st.text(max_size=200)))  # fmt: skip
def test_any_header_values_parse_without_error(headers: dict[str, str]) -> None:
    hints = client_hints_from_headers(headers)
    if hints is not None:
        parse_user_agent(WINDOWS_CHROME, hints)
