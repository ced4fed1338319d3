"""The ten risk signals of a session (DESIGN section 4), each a pure function of a `Case`.

Each returns `RiskSignal(flag, score, reasons)`: the strongest finding sets the score,
the flag is raised at 0.5, and every finding is a reason a person can check. The rules,
their scores and how to tune them are listed in docs/signals.md.
"""

from __future__ import annotations

from collections.abc import Callable

from sessionscope.enrich.network import HOSTING_ASNS
from sessionscope.ipprefix import ip_prefix
from sessionscope.judge import zones
from sessionscope.judge.case import Case, describe_list
from sessionscope.judge.findings import Finding, risk_signal
from sessionscope.judge.hardware import emulator_gpu, software_renderer, virtual_machine_gpu
from sessionscope.judge.languages import languages_fit, preferred_languages
from sessionscope.judge.records import FraudSighting
from sessionscope.judge.travel import effective_distance_km, impossible_travel, place_of
from sessionscope.model import Location, RiskSignal
from sessionscope.proxyheaders import parse_address

DATABASE = "anonymous-IP database"
# A site-reported position farther than this from the IP's location (beyond both
# accuracy radii) disagrees with it.
GEOLOCATION_GAP_KM = 500.0
MOBILE_CATEGORIES = frozenset({"mobile", "tablet", "wearable"})


def _listed(case: Case, name: str, score: float, what: str) -> Finding | None:
    match = case.evidence.lists.get(name)
    if match is None:
        return None
    return Finding(score, f"IP {case.ip} is {what} ({describe_list(match)})")


def _flagged(case: Case, flag: bool, score: float, what: str) -> Finding | None:
    return Finding(score, f"IP {case.ip} is {what} ({DATABASE})") if flag else None


# ---- network ------------------------------------------------------------------------


def tor(case: Case) -> RiskSignal:
    return risk_signal(
        [
            _listed(case, "tor_exit", 1.0, "a Tor exit node"),
            _flagged(case, case.evidence.geo.anonymous.is_tor_exit_node, 1.0, "a Tor exit node"),
        ]
    )


def datacenter(case: Case) -> RiskSignal:
    geo = case.evidence.geo
    asn = geo.asn
    findings = [
        _flagged(case, geo.anonymous.is_hosting_provider, 0.9, "on a hosting provider"),
        _listed(case, "datacenter", 0.9, "in a datacenter"),
    ]
    if asn is not None and asn in HOSTING_ASNS:
        findings.append(
            Finding(
                0.8,
                f"IP {case.ip} is announced by AS{asn} ({HOSTING_ASNS[asn]}), a hosting network",
            )
        )
    network = case.session.network
    if network.connection_type == "hosting" and not any(findings):
        provider = f" ({network.service_provider})" if network.service_provider else ""
        findings.append(Finding(0.7, f"IP {case.ip} is on a network classed as hosting{provider}"))
    return risk_signal(findings)


def proxy(case: Case) -> RiskSignal:
    flags = case.evidence.geo.anonymous
    forwarding = case.forwarding
    findings = [
        _flagged(case, flags.is_public_proxy, 0.9, "a public proxy"),
        _flagged(case, flags.is_residential_proxy, 0.8, "a residential proxy"),
        _listed(case, "proxy", 0.9, "a proxy"),
    ]
    if forwarding.via:
        findings.append(
            Finding(0.6, f"the request passed through a proxy (Via: {forwarding.via[:120]})")
        )
    for claimed in forwarding.claimed[:3]:
        if claimed.is_loopback or claimed.is_unspecified:
            continue  # no proxy forwards for these: spoofed_ip reports them
        if claimed.is_private:
            reason = f"the request was forwarded for the private address {claimed}"
            findings.append(Finding(0.3, f"{reason} ({forwarding.header}): a corporate proxy"))
        else:
            reason = f"IP {case.ip} forwarded the request for {claimed} ({forwarding.header})"
            findings.append(Finding(0.6, reason))
    return risk_signal(findings)


def _timezone_country_mismatch(case: Case) -> str | None:
    zone = case.session.signals.timezone
    countries = zones.zone_countries(zone)
    country = case.ip_country
    if not countries or not country or country in countries:
        return None
    return f"the browser's time zone {zone} is not used in {country}, where IP {case.ip} is"


def _languages_mismatch(case: Case) -> str | None:
    tags = preferred_languages(case.session)
    if languages_fit(tags, case.ip_country) is not False:
        return None
    return f"the browser's languages ({', '.join(tags[:4])}) are not spoken in {case.ip_country}"


def vpn(case: Case) -> RiskSignal:
    flags = case.evidence.geo.anonymous
    findings = [
        _flagged(case, flags.is_anonymous_vpn, 0.9, "a VPN exit"),
        _listed(case, "vpn", 0.9, "a VPN exit"),
        _listed(case, "private_relay", 0.3, "a private relay egress, an anonymizing relay"),
    ]
    if case.session.network.connection_type == "hosting":
        disagreements = [
            reason for reason in (_timezone_country_mismatch(case), _languages_mismatch(case))
            if reason
        ]  # fmt: skip
        if disagreements:
            score = 0.75 if len(disagreements) == 2 else 0.45
            detail = " and ".join(disagreements)
            findings.append(Finding(score, f"IP {case.ip} is on a hosting network, and {detail}"))
    return risk_signal(findings)


def spoofed_ip(case: Case) -> RiskSignal:
    forwarding = case.forwarding
    findings: list[Finding | None] = []
    loopback = [a for a in forwarding.claimed if a.is_loopback or a.is_unspecified]
    if loopback:
        findings.append(
            Finding(0.8, f"{forwarding.header} claims the loopback address {loopback[0]}")
        )
    if forwarding.malformed:
        findings.append(
            Finding(
                0.6, f"{forwarding.header} holds {forwarding.malformed[0][:64]!r}, not an address"
            )
        )
    if forwarding.chain and not forwarding.contains_ip:
        chain = ", ".join(forwarding.chain[:5])
        findings.append(
            Finding(
                0.6, f"{forwarding.header} ({chain}) does not contain the connection's {case.ip}"
            )
        )
    for name, value in list(forwarding.client_headers.items())[:2]:
        findings.append(
            Finding(0.7, f"{name} names {value[:64]} but the connection came from {case.ip}")
        )
    if forwarding.disagreeing_chains:
        findings.append(Finding(0.5, "Forwarded and X-Forwarded-For name different clients"))
    findings.append(_public_ip_differs(case))
    return risk_signal(findings)


def _public_ip_differs(case: Case) -> Finding | None:
    if not case.session.signals.public_ip:
        return None
    reported = parse_address(case.session.signals.public_ip)
    connection = parse_address(case.session.ip or "")
    if reported is None or connection is None or reported.version != connection.version:
        return None  # an IPv4 and an IPv6 address of one dual-stack host differ by nature
    if ip_prefix(str(reported)) == ip_prefix(str(connection)):
        return None
    story = f"the browser reports its public IP as {reported} but the request came from {case.ip}"
    if case.anonymizer is not None:
        return Finding(0.3, f"{story}, as expected behind {case.anonymizer}")
    return Finding(0.7, story)


# ---- history ------------------------------------------------------------------------


def recent_fraud_ip(case: Case) -> RiskSignal:
    findings = [_listed(case, "fraud", 0.9, "on the fraud list")]
    if not case.history.fraud:
        return risk_signal(findings)
    hours = case.policy.recent_fraud_hours
    same_ip = [s for s in case.history.fraud if s.ip == case.session.ip]
    nearby = [s for s in case.history.fraud if s.ip != case.session.ip]
    for sightings, where, strong in (
        (same_ip, f"IP {case.ip}", True),
        (nearby, f"the network {ip_prefix(case.session.ip)}", False),
    ):
        labelled = [s for s in sightings if s.labelled]
        judged = [s for s in sightings if not s.labelled]
        if labelled:
            score = 0.9 if strong else 0.6
            findings.append(Finding(score, _sightings(labelled, where, "labelled fraud", hours)))
        if judged:
            score = 0.8 if strong else 0.5
            findings.append(Finding(score, _sightings(judged, where, "judged fake", hours)))
    return risk_signal(findings)


def _sightings(sightings: list[FraudSighting], where: str, what: str, hours: int) -> str:
    count = len(sightings)
    session_id = sightings[0].session_id
    more = f" (newest: {session_id})" if count > 1 else f" ({session_id})"
    noun = "session" if count == 1 else "sessions"
    return f"{count} {noun} from {where} in the previous {hours} hours {_was(count)} {what}{more}"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


# ---- device against network and location ---------------------------------------------


def device_network_mismatch(case: Case) -> RiskSignal:
    findings: list[Finding | None] = []
    zone_reason = _timezone_country_mismatch(case)
    if zone_reason:
        offsets_differ = _zone_offsets_differ(case)
        findings.append(Finding(0.6 if offsets_differ else 0.3, zone_reason))
    language_reason = _languages_mismatch(case)
    if language_reason:
        findings.append(Finding(0.35, language_reason))
    if zone_reason and language_reason and _zone_offsets_differ(case):
        findings.append(Finding(0.7, "both the time zone and the languages point elsewhere"))
    network = case.session.network
    category = case.session.device.category
    if category in MOBILE_CATEGORIES and network.connection_type == "hosting":
        provider = network.service_provider or "a hosting provider"
        findings.append(Finding(0.7, f"a {category} device on the hosting network of {provider}"))
    return risk_signal(findings)


def _zone_offsets_differ(case: Case) -> bool:
    """The browser's UTC offset is not the IP location's (else not any of its country's)."""
    at = case.created_ms
    browser = zones.utc_offset_minutes(case.session.signals.timezone, at)
    location = case.session.location
    candidates = [location.timezone] if location.timezone else []
    if not candidates and location.country_code:
        candidates = list(zones.country_zones(location.country_code))
    offsets = {zones.utc_offset_minutes(zone, at) for zone in candidates} - {None}
    return browser is not None and bool(offsets) and browser not in offsets


def location_spoofing(case: Case) -> RiskSignal:
    return risk_signal([_clock_against_zone(case), _geolocation_far_from_ip(case)])


def _clock_against_zone(case: Case) -> Finding | None:
    signals = case.session.signals
    clock = signals.timezone_offset_minutes
    zone_offset = zones.utc_offset_minutes(signals.timezone, case.created_ms)
    if clock is None or zone_offset is None or clock == zone_offset:
        return None
    story = (
        f"the browser's clock runs at {zones.format_offset(clock)} but its time zone "
        f"{signals.timezone} is {zones.format_offset(zone_offset)}"
    )
    ip_offset = zones.utc_offset_minutes(case.session.location.timezone, case.created_ms)
    if ip_offset == zone_offset:
        return Finding(0.9, f"{story}: the zone was set to match IP {case.ip}")
    return Finding(0.8, f"{story}: the time zone is overridden")


def _geolocation_far_from_ip(case: Case) -> Finding | None:
    position = case.session.signals.geolocation
    ip_place = place_of(case.session.location)
    if position is None or ip_place is None:
        return None
    accuracy_km = (position.accuracy_m or 0.0) / 1000
    reported = place_of(
        Location(
            latitude=position.latitude,
            longitude=position.longitude,
            accuracy_radius_km=accuracy_km,
        )
    )
    assert reported is not None
    distance, beyond = effective_distance_km(reported, ip_place)
    if beyond <= GEOLOCATION_GAP_KM:
        return None
    story = (
        f"the position the site reported ({position.latitude:.2f}, {position.longitude:.2f}) "
        f"is {distance:,.0f} km from IP {case.ip} in {ip_place.label}"
    )
    if case.anonymizer is not None:
        return Finding(0.3, f"{story}, as expected behind {case.anonymizer}")
    return Finding(0.7, story)


# ---- the device itself ----------------------------------------------------------------


def device_risk(case: Case) -> RiskSignal:
    signals = case.session.signals
    findings: list[Finding | None] = []
    if signals.webdriver:
        findings.append(Finding(0.9, "navigator.webdriver is true: the browser is automated"))
    codes = [code for code in signals.automation if code != "webdriver"]
    if codes:
        findings.append(Finding(0.8, f"automation traces in the page: {', '.join(codes[:8])}"))
    if case.evidence.user_agent.is_headless:
        findings.append(Finding(0.8, "the browser is headless Chrome"))
    findings.extend(_gpu_findings(case))
    findings.extend(_self_description_findings(case))
    findings.append(_accounts_on_device(case))
    return risk_signal(findings)


_GPU_CHECKS: tuple[tuple[Callable[[str | None], str | None], float, str], ...] = (
    (emulator_gpu, 0.7, "an emulator"),
    (virtual_machine_gpu, 0.6, "a virtual machine"),
    (software_renderer, 0.6, "software rendering"),
)


def _gpu_findings(case: Case) -> list[Finding | None]:
    renderer = case.session.signals.gpu_renderer
    findings: list[Finding | None] = []
    for check, score, what in _GPU_CHECKS:
        name = check(renderer)
        if name:
            findings.append(Finding(score, f"the GPU is {name}: {what}"))
    if case.session.device.emulated:
        findings.append(Finding(0.7, "the device is emulated"))
    return findings


def _self_description_findings(case: Case) -> list[Finding]:
    described = case.self_description
    reasons = list(described.hints_mismatches)
    if described.platform_mismatch:
        reasons.append(described.platform_mismatch)
    return [Finding(0.7, f"{reason}: the user agent is tampered") for reason in reasons]


def _accounts_on_device(case: Case) -> Finding | None:
    users = set(case.history.device_users)
    session = case.session
    if session.user is not None:
        users.add(session.user.id)
    limit = case.policy.device_accounts_limit
    if session.device_id is None or len(users) <= limit:
        return None
    score = min(0.9, 0.6 + 0.1 * (len(users) - limit - 1))
    shown = ", ".join(sorted(users)[:5])
    return Finding(
        score,
        f"{len(users)} accounts used device {session.device_id} in the previous "
        f"{case.policy.device_accounts_hours} hours (limit {limit}): {shown}",
    )


SIGNALS: dict[str, Callable[[Case], RiskSignal]] = {
    "device_risk": device_risk,
    "proxy": proxy,
    "vpn": vpn,
    "tor": tor,
    "spoofed_ip": spoofed_ip,
    "datacenter": datacenter,
    "recent_fraud_ip": recent_fraud_ip,
    "impossible_travel": impossible_travel,
    "device_network_mismatch": device_network_mismatch,
    "location_spoofing": location_spoofing,
}
