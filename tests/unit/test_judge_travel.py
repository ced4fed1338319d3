"""Impossible travel: London to Sydney in 10 minutes is flagged, London to Paris in 5 hours
is not, and nothing is judged over an anonymizing network."""

from __future__ import annotations

from sessionscope.judge.history import History, PastSession
from sessionscope.judge.policy import Policy
from sessionscope.judge.travel import describe_duration, impossible_travel
from sessionscope.model import Location, RiskSignal
from tests.judgecases import CREATED_MS, case_for

MINUTE = 60_000
HOUR = 60 * MINUTE
LONDON = Location(country_code="GB", city="London", latitude=51.5142, longitude=-0.0931,
                  accuracy_radius_km=10)  # fmt: skip
SYDNEY = Location(country_code="AU", city="Sydney", latitude=-33.8688, longitude=151.2093,
                  accuracy_radius_km=20)  # fmt: skip
PARIS = Location(country_code="FR", city="Paris", latitude=48.8566, longitude=2.3522,
                 accuracy_radius_km=20)  # fmt: skip


def travel(
    before: Location,
    now: Location,
    elapsed_ms: int,
    *,
    then_anonymizer: str | None = None,
    ip: str = "2.125.160.216",
    policy: Policy | None = None,
) -> RiskSignal:
    previous = PastSession("prev-1", CREATED_MS - elapsed_ms, "192.0.2.1", before, then_anonymizer)
    case = case_for(ip, history=History(previous=previous, previous_by="user"), policy=policy)
    case.session.location = now  # the place this session's IP was found in
    return impossible_travel(case)


def test_london_to_sydney_in_ten_minutes_is_flagged() -> None:
    signal = travel(LONDON, SYDNEY, 10 * MINUTE)
    assert signal.flag and signal.score == 1.0
    (reason,) = signal.reasons
    assert reason.startswith(
        "the user's previous session prev-1 was in London, GB 10 minutes earlier; "
        "Sydney, AU is 16,99"
    )
    assert reason.endswith("above the site's limit of 900 km/h")


def test_london_to_paris_in_five_hours_is_not() -> None:
    signal = travel(LONDON, PARIS, 5 * HOUR)
    assert not signal.flag and signal.score == 0
    assert signal.reasons[0].endswith("km/h, within 900 km/h")


def test_london_to_paris_in_ten_minutes_is_flagged_with_a_lower_score() -> None:
    signal = travel(LONDON, PARIS, 10 * MINUTE)
    assert signal.flag and 0.7 <= signal.score < 1.0


def test_the_site_sets_the_speed() -> None:
    # ~300 km beyond the radii in 1 hour: too fast for a site that allows only 200 km/h.
    assert not travel(LONDON, PARIS, HOUR).flag
    assert travel(LONDON, PARIS, HOUR, policy=Policy(travel_speed_kmh=200)).flag


def test_over_a_vpn_now_it_is_excluded_and_says_so() -> None:
    signal = travel(LONDON, SYDNEY, 10 * MINUTE, ip="1.2.0.1")
    assert not signal.flag and signal.score == 0
    assert signal.reasons == [
        "not judged: this session's IP 1.2.0.1 is a VPN; "
        "anonymizing networks are excluded from impossible travel"
    ]


def test_over_a_vpn_before_it_is_excluded_and_says_so() -> None:
    signal = travel(LONDON, SYDNEY, 10 * MINUTE, then_anonymizer="Tor")
    assert not signal.flag
    assert signal.reasons[0].startswith(
        "not judged: the user's previous session prev-1 came through Tor"
    )


def test_nearby_places_and_unknown_places_are_not_judged() -> None:
    oxford = Location(country_code="GB", city="Oxford", latitude=51.75, longitude=-1.26,
                      accuracy_radius_km=50)  # fmt: skip
    assert travel(LONDON, oxford, 1000) == RiskSignal(flag=False, score=0.0, reasons=[])
    assert travel(LONDON, Location(country_code="AU"), MINUTE).reasons == []


def test_no_previous_session_no_judgement() -> None:
    signal = impossible_travel(case_for())
    assert signal == RiskSignal(flag=False, score=0.0, reasons=[])


def test_durations_read_naturally() -> None:
    assert describe_duration(10 * MINUTE) == "10 minutes"
    assert describe_duration(HOUR) == "1 hour"
    assert describe_duration(45_000) == "45 seconds"
    assert describe_duration(3 * 24 * HOUR) == "3 days"
