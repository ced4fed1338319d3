"""The lifecycle state machine and its timers, as pure functions."""

from __future__ import annotations

import itertools

import pytest
from msgspec import Struct

from sessionscope.clock import ms_to_rfc3339, rfc3339_to_ms
from sessionscope.experiments import assign_test_groups, variant_for
from sessionscope.lifecycle import (
    DAY_MS,
    LEGAL_TRANSITIONS,
    MINUTE_MS,
    HeartbeatEvent,
    LifecycleError,
    LoginEvent,
    LogoutEvent,
    PageviewEvent,
    RecogniseEvent,
    RegisterPartialEvent,
    Timers,
    apply_event,
    expiry_ms,
    revoke,
    timers_for,
    visitor_key,
)
from sessionscope.model import Experiment, Session, SessionState, SiteSettings, User, Variant

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
STATES: list[SessionState] = ["anonymous", "recognised", "partially_registered", "authenticated"]
ALICE = User(id="alice")
MOVES: dict[str, tuple[Struct, SessionState]] = {
    "recognise": (RecogniseEvent(user=ALICE), "recognised"),
    "register_partial": (RegisterPartialEvent(user=ALICE), "partially_registered"),
    "login": (LoginEvent(user=ALICE), "authenticated"),
    "logout": (LogoutEvent(), "anonymous"),
}
TIMERS = Timers(
    authenticated_ms=365 * DAY_MS, anonymous_ms=30 * DAY_MS, idle_ms=None, logout="anonymous"
)


def session(state: SessionState = "anonymous", at_ms: int = T0) -> Session:
    stamp = ms_to_rfc3339(at_ms)
    return Session(
        id="0190f5e4-0000-7000-8000-000000000001",
        tenant="acme",
        site="web",
        site_uuid="6f1c1f43-6a4e-4c1e-9d43-1b2b3c4d5e6f",
        version=1,
        created_at=stamp,
        updated_at=stamp,
        last_seen_at=stamp,
        expires_at=ms_to_rfc3339(at_ms + DAY_MS),
        state=state,
        status="active",
        user=None if state == "anonymous" else User(id="bob"),
    )


CASES = list(itertools.product(STATES, MOVES))


@pytest.mark.parametrize(("state", "move"), CASES, ids=[f"{s}-{m}" for s, m in CASES])
def test_every_transition_is_legal_or_refused(state: SessionState, move: str) -> None:
    event, target = MOVES[move]
    current = session(state)
    if (state, target) in LEGAL_TRANSITIONS:
        outcome = apply_event(current, event, TIMERS, T0 + 1000)
        assert current.state == target and outcome.identity_changed
        assert current.user == (None if target == "anonymous" else ALICE)
    else:
        with pytest.raises(LifecycleError) as refused:
            apply_event(current, event, TIMERS, T0 + 1000)
        assert refused.value.code == "illegal_transition" and refused.value.status == 409
        assert refused.value.details == {"from": state, "to": target, "event": move}
        assert current.state == state


def test_the_legal_transitions_are_exactly_these() -> None:
    expected = {
        ("anonymous", "recognised"),
        ("anonymous", "partially_registered"),
        ("anonymous", "authenticated"),
        ("recognised", "partially_registered"),
        ("recognised", "authenticated"),
        ("recognised", "anonymous"),
        ("partially_registered", "authenticated"),
        ("partially_registered", "anonymous"),
        ("authenticated", "anonymous"),
    }
    assert expected == LEGAL_TRANSITIONS


@pytest.mark.parametrize("state", STATES)
def test_activity_is_legal_in_every_state(state: SessionState) -> None:
    current = session(state)
    apply_event(current, PageviewEvent(page_url="https://x.example/a", content_id="a"), TIMERS, T0)
    apply_event(current, HeartbeatEvent(), TIMERS, T0 + 5000)
    assert current.state == state
    assert current.behaviour.page_views == 1 and current.page_url == "https://x.example/a"
    assert current.last_seen_at == ms_to_rfc3339(T0 + 5000)


@pytest.mark.parametrize("status", ["expired", "released", "revoked"])
def test_an_ended_session_takes_no_event(status: str) -> None:
    current = session()
    current.status = status  # type: ignore[assignment]
    with pytest.raises(LifecycleError) as refused:
        apply_event(current, HeartbeatEvent(), TIMERS, T0)
    assert refused.value.code == "session_inactive"


def test_logout_can_release_and_keeps_who_it_was() -> None:
    current = session("authenticated")
    releasing = Timers(TIMERS.authenticated_ms, TIMERS.anonymous_ms, None, "release")
    outcome = apply_event(current, LogoutEvent(), releasing, T0 + 60_000)
    assert outcome.ended and not outcome.identity_changed
    assert current.status == "released" and current.released_at == ms_to_rfc3339(T0 + 60_000)
    assert current.state == "authenticated" and current.user == User(id="bob")


def test_expiry_is_the_earlier_of_absolute_and_idle() -> None:
    idle = Timers(365 * DAY_MS, 30 * DAY_MS, 20 * MINUTE_MS, "anonymous")
    current = session()
    apply_event(current, HeartbeatEvent(), idle, T0 + 10 * MINUTE_MS)
    assert rfc3339_to_ms(current.expires_at or "") == T0 + 30 * MINUTE_MS
    apply_event(current, LoginEvent(user=ALICE), TIMERS, T0 + 11 * MINUTE_MS)
    assert rfc3339_to_ms(current.expires_at or "") == T0 + 365 * DAY_MS
    apply_event(current, LogoutEvent(), TIMERS, T0 + 12 * MINUTE_MS)
    assert rfc3339_to_ms(current.expires_at or "") == T0 + 30 * DAY_MS
    late = session(at_ms=T0)
    late.last_seen_at = ms_to_rfc3339(T0 + 40 * DAY_MS)
    assert expiry_ms(late, idle) == T0 + 30 * DAY_MS  # the absolute limit still holds


def test_time_never_runs_backwards_on_last_seen() -> None:
    current = session(at_ms=T0 + 10_000)
    apply_event(current, HeartbeatEvent(), TIMERS, T0)
    assert current.last_seen_at == ms_to_rfc3339(T0 + 10_000)


def test_timers_from_site_settings() -> None:
    assert timers_for(SiteSettings(), 365) == Timers(365 * DAY_MS, 365 * DAY_MS, None, "anonymous")
    custom = SiteSettings(
        session_lifetime_days=10,
        anonymous_lifetime_days=2,
        idle_timeout_minutes=15,
        logout="release",
    )
    assert timers_for(custom, 365) == Timers(10 * DAY_MS, 2 * DAY_MS, 15 * MINUTE_MS, "release")


def test_revoke_keeps_the_first_end() -> None:
    current = session()
    revoke(current, T0 + 5)
    assert current.status == "revoked" and current.released_at == ms_to_rfc3339(T0 + 5)
    released = session()
    released.status, released.released_at = "released", ms_to_rfc3339(T0 + 1)
    revoke(released, T0 + 9)
    assert released.status == "revoked" and released.released_at == ms_to_rfc3339(T0 + 1)


def test_visitor_is_the_user_else_the_device_else_the_session() -> None:
    current = session()
    assert visitor_key(current) == f"session:{current.id}"
    current.device_id = "6yONB4zT6k2i7SXvWkwC9s"
    assert visitor_key(current) == "device:6yONB4zT6k2i7SXvWkwC9s"
    current.user = ALICE
    assert visitor_key(current) == "user:alice"


# ---- test groups -----------------------------------------------------------------

SPLIT = Experiment(name="paywall", variants=[Variant(name="a", weight=1), Variant(name="b")])


def test_assignment_is_stable_and_follows_the_weights() -> None:
    picks = [variant_for(SPLIT, "acme|web", f"user:u{i}") for i in range(2000)]
    assert picks == [variant_for(SPLIT, "acme|web", f"user:u{i}") for i in range(2000)]
    assert 900 < picks.count("a") < 1100
    skewed = Experiment(name="x", variants=[Variant(name="a", weight=9), Variant(name="b")])
    share = [variant_for(skewed, "acme|web", f"user:u{i}") for i in range(2000)].count("a")
    assert 1700 < share < 1900
    never = Experiment(name="y", variants=[Variant(name="a", weight=0), Variant(name="b")])
    assert {variant_for(never, "acme|web", f"d{i}") for i in range(200)} == {"b"}


def test_assignment_keeps_what_the_site_gave_only_when_asked() -> None:
    current = session()
    current.user = ALICE
    current.test_groups = {"paywall": "given", "other": 1}
    assign_test_groups(current, [SPLIT], keep_given=True)
    assert current.test_groups == {"paywall": "given", "other": 1}
    assign_test_groups(current, [SPLIT], keep_given=False)
    assert current.test_groups == {
        "paywall": variant_for(SPLIT, "acme|web", "user:alice"),
        "other": 1,
    }
