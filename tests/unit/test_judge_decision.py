"""The verdict: score, decision, thresholds per site, true country; and the helpers it
stands on (time zones, languages, forwarding headers, IP prefixes)."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address, ip_network

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope.ipprefix import ip_prefix
from sessionscope.judge import zones
from sessionscope.judge.decision import decide, judge
from sessionscope.judge.forwarding import read_forwarding
from sessionscope.judge.languages import languages_fit, preferred_languages
from sessionscope.judge.origin import true_country
from sessionscope.judge.policy import Policy
from sessionscope.model import SiteSettings
from tests.judgecases import CHROME_HINTS, GOOGLEBOT, case_for, enricher, session_for

CLEAN = "2.125.160.216"


def test_a_clean_session_is_real() -> None:
    verdict = judge(case_for(CLEAN, headers=CHROME_HINTS, signals={"timezone": "Europe/London"}))
    assert verdict.risk.decision == "real" and verdict.risk.score == 0
    assert verdict.bot.is_bot is False and verdict.true_country_code == "GB"


def test_a_vpn_alone_is_suspicious_and_tor_with_a_bot_is_fake() -> None:
    assert judge(case_for("1.2.0.1")).risk.decision == "suspicious"
    driven = judge(case_for("185.220.101.4", signals={"webdriver": True}))
    assert driven.risk.decision == "fake" and driven.risk.score > 0.95


def test_a_good_crawler_in_a_datacenter_is_real() -> None:
    verdict = judge(case_for("1.0.0.1", GOOGLEBOT))
    assert verdict.bot.kind == "good" and verdict.risk.datacenter is not None
    assert verdict.risk.datacenter.flag and verdict.risk.decision == "real"


def test_decision_thresholds_come_from_the_site() -> None:
    assert decide(0.5, Policy()) == "suspicious"
    lenient = Policy.for_site(SiteSettings(risk_suspicious_at=0.6, risk_fake_at=0.9))
    assert decide(0.5, lenient) == "real" and decide(0.95, lenient) == "fake"
    # Lowering only the fake threshold below the default suspicious one: no inverted band.
    strict = Policy.for_site(SiteSettings(risk_fake_at=0.3))
    assert strict.suspicious_at == 0.3 and decide(0.35, strict) == "fake"


def test_site_settings_refuse_inverted_thresholds() -> None:
    with pytest.raises(msgspec.ValidationError, match="risk_suspicious_at must not be above"):
        msgspec.convert({"risk_suspicious_at": 0.9, "risk_fake_at": 0.5}, SiteSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"bot_threshold": 1.5}, SiteSettings)
    policy = Policy.for_site(msgspec.convert({"velocity_limits": {"ip_5m": 5}}, SiteSettings))
    assert policy.velocity.ip_5m == 5 and policy.velocity.ip_1h == 120


def test_true_country_behind_a_vpn_comes_from_the_browser() -> None:
    vpn = "89.160.20.130"  # SE datacenter
    by_zone = case_for(vpn, signals={"timezone": "America/Chicago"})
    assert true_country(by_zone) == "US"
    by_public_ip = case_for(vpn, signals={"public_ip": "214.0.1.5"})
    own = enricher().geo.lookup("214.0.1.5")
    assert true_country(replace(by_public_ip, public_ip_geo=own)) == "AU"
    assert true_country(case_for(vpn)) == "SE"  # nothing to infer from
    assert true_country(case_for(CLEAN, signals={"timezone": "America/Chicago"})) == "GB"


def test_zones_and_their_countries() -> None:
    assert zones.zone_countries("Europe/Zurich") == {"CH", "DE", "LI"}
    assert zones.zone_country("Asia/Calcutta") == "IN"  # an alias, resolved by its data
    assert zones.zone_country("Not/AZone") is None and zones.zone_countries("../etc") == set()
    may_2026 = 1_780_000_000_000
    assert zones.utc_offset_minutes("Europe/London", may_2026) == 60
    assert zones.utc_offset_minutes("Asia/Kolkata", may_2026) == 330
    assert zones.format_offset(-210) == "UTC-03:30"


def test_languages_against_countries() -> None:
    assert languages_fit(["en-US"], "SE") is True  # English is widely spoken in Sweden
    assert languages_fit(["ja-JP"], "SE") is False
    assert languages_fit(["de-CH", "fr"], "CH") is True
    assert languages_fit([], "SE") is None and languages_fit(["en"], None) is None
    session = session_for(accept_language="fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5")
    assert preferred_languages(session) == ["fr-CH", "fr", "en"]


def test_forwarding_headers_are_read_without_trusting_them() -> None:
    story = read_forwarding(
        "203.0.113.9",
        {"forwarded": 'for="[2001:db8::7]:4711";proto=https, for=203.0.113.9', "via": "1.1 a"},
    )
    assert story.header == "Forwarded" and story.contains_ip
    assert [str(a) for a in story.claimed] == ["2001:db8::7"] and story.via == "1.1 a"
    assert (
        read_forwarding("203.0.113.9", {"x-forwarded-for": "unknown, 203.0.113.9"}).malformed == []
    )


def test_ip_prefixes() -> None:
    assert ip_prefix("81.2.69.142") == "81.2.69.0/24"
    assert ip_prefix("2001:db8:1:2:3::9") == "2001:db8:1:2::/64"
    assert ip_prefix("::ffff:81.2.69.142") == "81.2.69.0/24"
    assert ip_prefix("nonsense") is None and ip_prefix(None) is None


@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_ip_prefix_is_the_standard_librarys_network(address: IPv4Address | IPv6Address) -> None:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    length = 24 if address.version == 4 else 64
    expected = ip_network(f"{address}/{length}", strict=False).compressed
    assert ip_prefix(str(address)) == expected
