"""Each risk signal, positive and negative, on sessions enriched from real test data."""

from __future__ import annotations

import ipaddress

from sessionscope.judge import signals
from sessionscope.judge.history import History
from sessionscope.judge.policy import Policy
from sessionscope.judge.records import FraudSighting
from tests.judgecases import CHROME_HINTS, IPHONE, WINDOWS_CHROME, WINDOWS_FIREFOX, case_for

CLEAN = "2.125.160.216"  # Boxford, GB; no list, no anonymity flag
BRITISH = {"timezone": "Europe/London", "timezone_offset_minutes": 60, "languages": ["en-GB"]}


def test_a_clean_session_raises_no_signal() -> None:
    case = case_for(CLEAN, signals=BRITISH, headers=CHROME_HINTS)
    for name, check in signals.SIGNALS.items():
        signal = check(case)
        assert not signal.flag and signal.score == 0, (name, signal)


# ---- tor ----------------------------------------------------------------------------


def test_tor_from_the_list_names_the_list_and_its_date() -> None:
    signal = signals.tor(case_for("185.220.101.4"))
    assert signal.flag and signal.score == 1.0
    assert signal.reasons == [
        "IP 185.220.101.4 is a Tor exit node (list tor_exit, updated 2026-11-20)"
    ]


def test_tor_from_the_anonymous_ip_database() -> None:
    signal = signals.tor(case_for("65.0.0.1"))
    assert signal.flag and "(anonymous-IP database)" in signal.reasons[0]


def test_tor_negative_on_a_vpn() -> None:
    assert not signals.tor(case_for("1.2.0.1")).flag


# ---- datacenter ---------------------------------------------------------------------


def test_datacenter_from_the_hosting_flag() -> None:
    signal = signals.datacenter(case_for("71.160.223.1"))
    assert signal.flag and "hosting provider" in signal.reasons[0]


def test_datacenter_from_the_list_shows_the_network() -> None:
    signal = signals.datacenter(case_for("89.160.20.130"))
    assert signal.flag
    assert signal.reasons[0] == (
        "IP 89.160.20.130 is in a datacenter "
        "(list datacenter, network 89.160.20.128/25, updated 2026-11-20)"
    )


def test_datacenter_from_a_hosting_asn() -> None:
    signal = signals.datacenter(case_for("1.0.0.1"))
    assert signal.flag and "AS15169 (Google)" in signal.reasons[0]


def test_datacenter_negative_on_a_consumer_isp() -> None:
    assert signals.datacenter(case_for("1.128.0.1")).score == 0


# ---- proxy --------------------------------------------------------------------------


def test_proxy_from_the_database_public_and_residential() -> None:
    assert "public proxy" in signals.proxy(case_for("186.30.236.1")).reasons[0]
    residential = signals.proxy(case_for("6.1.0.4"))
    assert residential.flag and "residential proxy" in residential.reasons[0]


def test_proxy_from_the_list() -> None:
    assert signals.proxy(case_for("198.51.100.8")).flag


def test_proxy_from_a_via_header() -> None:
    signal = signals.proxy(case_for(CLEAN, headers={"Via": "1.1 squid.example:3128"}))
    assert signal.flag and "Via: 1.1 squid.example:3128" in signal.reasons[0]


def test_proxy_from_a_forwarding_chain_of_an_untrusted_peer() -> None:
    headers = {"X-Forwarded-For": f"89.160.20.112, {CLEAN}"}
    signal = signals.proxy(case_for(CLEAN, headers=headers))
    assert signal.flag
    assert signal.reasons == [
        f"IP {CLEAN} forwarded the request for 89.160.20.112 (X-Forwarded-For)"
    ]


def test_proxy_ignores_our_own_trusted_hops_and_private_hops_only_inform() -> None:
    trusted = Policy(trusted_proxies=(ipaddress.ip_network("89.160.20.0/24"),))
    headers = {"X-Forwarded-For": f"89.160.20.112, {CLEAN}"}
    assert signals.proxy(case_for(CLEAN, headers=headers, policy=trusted)).score == 0
    corporate = signals.proxy(case_for(CLEAN, headers={"X-Forwarded-For": f"10.0.0.5, {CLEAN}"}))
    assert not corporate.flag and "private address 10.0.0.5" in corporate.reasons[0]


def test_proxy_negative_without_headers_or_data() -> None:
    assert signals.proxy(case_for(CLEAN)).score == 0


# ---- vpn ----------------------------------------------------------------------------


def test_vpn_from_the_database_and_the_list() -> None:
    assert signals.vpn(case_for("1.2.0.1")).reasons == [
        "IP 1.2.0.1 is a VPN exit (anonymous-IP database)"
    ]
    assert "list vpn" in signals.vpn(case_for("198.51.100.7")).reasons[0]


def test_vpn_from_a_hosting_network_whose_zone_and_languages_disagree() -> None:
    american = {"timezone": "America/New_York", "languages": ["en-US", "en"]}
    japanese = {"timezone": "Asia/Tokyo", "languages": ["ja-JP"]}
    signal = signals.vpn(case_for("89.160.20.130", signals=japanese))  # SE datacenter
    assert signal.flag and signal.score == 0.75
    assert "Asia/Tokyo is not used in SE" in signal.reasons[0]
    assert "(ja-JP) are not spoken in SE" in signal.reasons[0]
    # English is widely spoken in Sweden: only the zone disagrees, which alone is no VPN.
    partial = signals.vpn(case_for("89.160.20.130", signals=american))
    assert not partial.flag and partial.score == 0.45


def test_vpn_negative_for_a_local_visitor_on_a_hosting_network() -> None:
    swedish = {"timezone": "Europe/Stockholm", "languages": ["sv-SE"]}
    assert signals.vpn(case_for("89.160.20.130", signals=swedish)).score == 0


def test_a_private_relay_is_noted_but_not_a_vpn() -> None:
    signal = signals.vpn(case_for("172.224.224.9"))
    assert not signal.flag and "private relay" in signal.reasons[0]


# ---- spoofed_ip ---------------------------------------------------------------------


def test_spoofed_ip_from_a_chain_without_the_connection() -> None:
    signal = signals.spoofed_ip(case_for(CLEAN, headers={"X-Forwarded-For": "89.160.20.112"}))
    assert signal.flag
    assert f"does not contain the connection's {CLEAN}" in signal.reasons[0]


def test_spoofed_ip_from_a_loopback_claim_and_a_malformed_hop() -> None:
    headers = {"X-Forwarded-For": f"127.0.0.1, not-an-ip, {CLEAN}"}
    assert signals.proxy(case_for(CLEAN, headers=headers)).score == 0  # no proxy does that
    signal = signals.spoofed_ip(case_for(CLEAN, headers=headers))
    assert signal.score == 0.8
    assert any("loopback address 127.0.0.1" in r for r in signal.reasons)
    assert any("'not-an-ip', not an address" in r for r in signal.reasons)


def test_spoofed_ip_from_a_client_header_naming_another_address() -> None:
    signal = signals.spoofed_ip(case_for(CLEAN, headers={"X-Real-IP": "89.160.20.112"}))
    assert signal.flag and signal.reasons[0].startswith("x-real-ip names 89.160.20.112")


def test_spoofed_ip_from_the_browsers_own_public_ip() -> None:
    signal = signals.spoofed_ip(case_for(CLEAN, signals={"public_ip": "89.160.20.112"}))
    assert signal.flag and "reports its public IP as 89.160.20.112" in signal.reasons[0]
    behind_vpn = signals.spoofed_ip(case_for("1.2.0.1", signals={"public_ip": "89.160.20.112"}))
    assert not behind_vpn.flag and "as expected behind a VPN" in behind_vpn.reasons[0]


def test_spoofed_ip_negative_for_consistent_headers_and_dual_stack() -> None:
    consistent = {"X-Forwarded-For": CLEAN, "X-Real-IP": CLEAN}
    assert signals.spoofed_ip(case_for(CLEAN, headers=consistent)).score == 0
    same_network = {"public_ip": "2.125.160.217"}
    assert signals.spoofed_ip(case_for(CLEAN, signals=same_network)).score == 0
    dual_stack = {"public_ip": "2001:db8::1"}
    assert signals.spoofed_ip(case_for(CLEAN, signals=dual_stack)).score == 0


# ---- recent_fraud_ip ----------------------------------------------------------------


def _seen(session_id: str, ip: str, labelled: bool) -> FraudSighting:
    return FraudSighting(session_id, ip, 1_779_990_000_000, labelled)


def test_recent_fraud_from_the_list() -> None:
    signal = signals.recent_fraud_ip(case_for("198.51.100.9"))
    assert signal.flag and "fraud list" in signal.reasons[0]


def test_recent_fraud_from_a_labelled_session_of_the_same_ip() -> None:
    history = History(fraud=(_seen("s-1", CLEAN, labelled=True),))
    signal = signals.recent_fraud_ip(case_for(CLEAN, history=history))
    assert signal.flag and signal.score == 0.9
    assert signal.reasons == [
        f"1 session from IP {CLEAN} in the previous 168 hours was labelled fraud (s-1)"
    ]


def test_recent_fraud_from_fake_sessions_of_the_same_prefix_is_weaker() -> None:
    history = History(
        fraud=(_seen("s-2", "2.125.160.9", False), _seen("s-3", "2.125.160.8", False))
    )
    signal = signals.recent_fraud_ip(case_for(CLEAN, history=history))
    assert signal.flag and signal.score == 0.5
    assert "2 sessions from the network 2.125.160.0/24" in signal.reasons[0]
    assert "were judged fake (newest: s-2)" in signal.reasons[0]


def test_recent_fraud_negative_without_history_or_list() -> None:
    assert signals.recent_fraud_ip(case_for(CLEAN)).score == 0


# ---- device_network_mismatch --------------------------------------------------------


def test_device_network_mismatch_from_the_time_zone() -> None:
    signal = signals.device_network_mismatch(case_for(CLEAN, signals={"timezone": "Asia/Tokyo"}))
    assert signal.flag and signal.score == 0.6
    assert signal.reasons == [
        "the browser's time zone Asia/Tokyo is not used in GB, where IP 2.125.160.216 is"
    ]


def test_a_neighbouring_zone_with_the_same_offset_only_informs() -> None:
    signal = signals.device_network_mismatch(
        case_for("89.160.20.112", signals={"timezone": "Europe/Oslo"})
    )
    assert not signal.flag and signal.score == 0.3


def test_device_network_mismatch_from_zone_and_languages_together() -> None:
    japanese = {"timezone": "Asia/Tokyo", "languages": ["ja-JP"]}
    signal = signals.device_network_mismatch(case_for(CLEAN, signals=japanese))
    assert signal.score == 0.7 and len(signal.reasons) == 3


def test_device_network_mismatch_mobile_device_on_a_hosting_network() -> None:
    signal = signals.device_network_mismatch(case_for("1.0.0.1", user_agent=IPHONE))
    assert signal.flag and "a mobile device on the hosting network" in signal.reasons[0]


def test_device_network_mismatch_negative_for_a_local_browser() -> None:
    assert signals.device_network_mismatch(case_for(CLEAN, signals=BRITISH)).score == 0


# ---- location_spoofing --------------------------------------------------------------


def test_location_spoofing_clock_against_its_own_zone() -> None:
    # New York clock (UTC-04:00 in May) with a Tokyo zone: the zone was overridden.
    spoofed = {"timezone": "Asia/Tokyo", "timezone_offset_minutes": -240}
    signal = signals.location_spoofing(case_for(CLEAN, signals=spoofed))
    assert signal.flag and signal.score == 0.8
    assert signal.reasons[0].startswith(
        "the browser's clock runs at UTC-04:00 but its time zone Asia/Tokyo is UTC+09:00"
    )


def test_location_spoofing_zone_set_to_match_the_ip() -> None:
    matched = {"timezone": "Europe/London", "timezone_offset_minutes": -240}
    signal = signals.location_spoofing(case_for(CLEAN, signals=matched))
    assert signal.score == 0.9 and "set to match IP 2.125.160.216" in signal.reasons[0]


def test_location_spoofing_geolocation_far_from_the_ip() -> None:
    sydney = {"geolocation": {"latitude": -33.87, "longitude": 151.21, "accuracy_m": 30}}
    signal = signals.location_spoofing(case_for(CLEAN, signals=sydney))
    assert signal.flag and "km from IP 2.125.160.216 in Boxford, GB" in signal.reasons[0]


def test_location_spoofing_negative_for_a_consistent_browser() -> None:
    oxford = {**BRITISH, "geolocation": {"latitude": 51.75, "longitude": -1.26}}
    assert signals.location_spoofing(case_for(CLEAN, signals=oxford)).score == 0


# ---- device_risk --------------------------------------------------------------------


def test_device_risk_from_automation() -> None:
    driven = {"webdriver": True, "automation": ["cdp_runtime"]}
    signal = signals.device_risk(case_for(CLEAN, signals=driven))
    assert signal.flag and signal.score == 0.9
    assert "automation traces in the page: cdp_runtime" in signal.reasons


def test_device_risk_from_virtual_gpus() -> None:
    for renderer, what in (
        (
            "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)",
            "software",
        ),
        ("llvmpipe (LLVM 15.0.6, 256 bits)", "software"),
        ("VirtualBox Graphics Adapter", "virtual machine"),
        ("Android Emulator OpenGL ES Translator (Google SwiftShader)", "emulator"),
    ):
        signal = signals.device_risk(case_for(CLEAN, signals={"gpu_renderer": renderer}))
        assert signal.flag and what in signal.reasons[0], renderer


def test_device_risk_from_a_user_agent_the_client_hints_contradict() -> None:
    firefox_with_hints = signals.device_risk(
        case_for(CLEAN, user_agent=WINDOWS_FIREFOX, headers=CHROME_HINTS)
    )
    assert firefox_with_hints.flag and "only Chromium sends" in firefox_with_hints.reasons[0]
    windows_says_mac = signals.device_risk(
        case_for(CLEAN, user_agent=WINDOWS_CHROME, headers=CHROME_HINTS)
    )
    assert "says Windows but the client hints say macOS" in windows_says_mac.reasons[0]
    linux_platform = signals.device_risk(
        case_for(CLEAN, user_agent=WINDOWS_CHROME, signals={"platform": "Linux x86_64"})
    )
    assert "navigator.platform is 'Linux x86_64'" in linux_platform.reasons[0]


def test_device_risk_from_many_accounts_on_one_device() -> None:
    history = History(device_users=("ann", "bob", "cat"))
    case = case_for(CLEAN, history=history, user={"id": "dan"}, metadata={"device_id": "D1"})
    signal = signals.device_risk(case)
    assert signal.flag and signal.reasons == [
        "4 accounts used device D1 in the previous 168 hours (limit 3): ann, bob, cat, dan"
    ]
    relaxed = Policy(device_accounts_limit=5)
    assert signals.device_risk(case_for(CLEAN, history=history, policy=relaxed,
                                        metadata={"device_id": "D1"})).score == 0  # fmt: skip


def test_device_risk_negative_for_a_plain_browser() -> None:
    honest = {"gpu_renderer": "ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)",
              "platform": "MacIntel", "webdriver": False}  # fmt: skip
    assert signals.device_risk(case_for(CLEAN, headers=CHROME_HINTS, signals=honest)).score == 0


def test_without_the_ip_zone_the_countrys_zones_decide() -> None:
    spain = "2a02:d5c0::1"  # ES, no time zone in the record
    far = signals.device_network_mismatch(case_for(spain, signals={"timezone": "Asia/Tokyo"}))
    assert far.flag and far.score == 0.6
    # Lisbon keeps the Canary Islands' offset: a neighbour, only noted.
    near = signals.device_network_mismatch(case_for(spain, signals={"timezone": "Europe/Lisbon"}))
    assert not near.flag and near.score == 0.3
