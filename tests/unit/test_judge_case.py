"""The facts a case works out once, when it is built, are what the rules would work out."""

from __future__ import annotations

from typing import Any

import pytest

from sessionscope.judge.anonymity import current_anonymizer
from sessionscope.judge.consistency import hints_mismatches, navigator_platform_mismatch, ua_only
from sessionscope.judge.forwarding import Forwarding, read_forwarding
from sessionscope.judge.languages import languages_fit, preferred_languages
from tests.judgecases import (
    CHROME_HINTS,
    GOOGLEBOT,
    HEADLESS,
    IPHONE,
    MAC_CHROME,
    WINDOWS_FIREFOX,
    case_for,
    session_for,
)

USER_AGENTS = (MAC_CHROME, WINDOWS_FIREFOX, IPHONE, HEADLESS, GOOGLEBOT, "curl/8.5.0", "")
HEADERS: tuple[dict[str, str], ...] = (
    {},
    CHROME_HINTS,
    {"X-Forwarded-For": "203.0.113.9, 2.125.160.216", "Via": "1.1 proxy"},
)
PLATFORMS = (None, "", "Win32", "MacIntel", "iPhone")
ADDRESSES = ("2.125.160.216", "185.220.101.4", "1.2.0.1", "172.224.224.3")


@pytest.mark.parametrize("user_agent", USER_AGENTS)
@pytest.mark.parametrize("headers", HEADERS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_self_description_is_the_consistency_rules(
    user_agent: str, headers: dict[str, str], platform: str | None
) -> None:
    case = case_for(user_agent=user_agent, headers=headers, signals={"platform": platform})
    parsed = ua_only(user_agent)
    mismatches = hints_mismatches(user_agent, parsed, case.evidence.hints)
    assert case.self_description.hints_mismatches == tuple(mismatches)
    expected = navigator_platform_mismatch(parsed.device.platform, platform)
    assert case.self_description.platform_mismatch == expected


@pytest.mark.parametrize("ip", ADDRESSES)
@pytest.mark.parametrize("headers", HEADERS)
def test_forwarding_and_anonymizer_are_read_as_the_rules_would(
    ip: str, headers: dict[str, str]
) -> None:
    case = case_for(ip, headers=headers)
    session = case.session
    expected = read_forwarding(session.ip, session.headers, case.policy.trusted_proxies)
    assert case.forwarding == expected
    assert case.anonymizer == current_anonymizer(case.evidence, session.network)


def test_a_request_without_forwarding_headers_has_an_empty_story() -> None:
    assert read_forwarding("2.125.160.216", {"accept": "text/html"}) == Forwarding()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"accept_language": "en-GB,en;q=0.9"}, ["en-GB", "en"]),
        ({"headers": {"Accept-Language": " de , *, ,fr;q=0.5"}}, ["de", "fr"]),
        ({"accept_language": ",".join(f"l{n}" for n in range(20))}, [f"l{n}" for n in range(12)]),
        ({"accept_language": "*"}, []),
        ({"signals": {"languages": [" sv-SE", "*", ""]}}, ["sv-SE"]),
        ({"signals": {"language": "ja"}, "accept_language": "en"}, ["ja"]),
        ({}, []),
    ],
)
def test_preferred_languages_again_and_again(fields: dict[str, Any], expected: list[str]) -> None:
    for _ in range(2):  # the second time from the cache, as a fresh list
        tags = preferred_languages(session_for(**fields))
        assert tags == expected
        tags.append("changed by the caller")


def test_languages_fit_again_and_again() -> None:
    for _ in range(2):
        assert languages_fit(["sv-SE", "en"], "SE") is True
        assert languages_fit(["ja"], "SE") is False
        assert languages_fit(["ja"], "XX") is None
        assert languages_fit([], "SE") is None
