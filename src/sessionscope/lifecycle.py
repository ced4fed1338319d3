"""Session lifecycle: the events a session goes through, its states, and the timers that end it.

Pure rules: functions of a session, an event, the site's timers and a moment. The
use-cases that read and write the store are in `lifecycle_actions.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from msgspec import Struct

from sessionscope.clock import ms_to_rfc3339, rfc3339_to_ms
from sessionscope.model import (
    Identifier,
    LogoutBehaviour,
    LongText,
    Session,
    SessionState,
    SiteSettings,
    User,
)

DAY_MS: Final = 86_400_000
MINUTE_MS: Final = 60_000


class LifecycleError(Exception):
    """A request the lifecycle refuses; `code` is stable, `details` says why."""

    def __init__(self, code: str, message: str, details: dict[str, str]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = 409
        self.details = details


# ---- events ------------------------------------------------------------------


class RecogniseEvent(Struct, tag="recognise", tag_field="type", forbid_unknown_fields=True):
    """The visitor is known (an earlier visit, an opt-in) but has not logged in."""

    user: User


class RegisterPartialEvent(
    Struct, tag="register_partial", tag_field="type", forbid_unknown_fields=True
):
    """The visitor started registering (e.g. gave an e-mail) without finishing."""

    user: User


class LoginEvent(Struct, tag="login", tag_field="type", forbid_unknown_fields=True):
    user: User


class LogoutEvent(Struct, tag="logout", tag_field="type", forbid_unknown_fields=True):
    """The user logs out: the session goes back to anonymous, or ends (site setting)."""


class PageviewEvent(Struct, tag="pageview", tag_field="type", forbid_unknown_fields=True):
    page_url: LongText | None = None
    content_id: Identifier | None = None
    referrer: LongText | None = None


class HeartbeatEvent(Struct, tag="heartbeat", tag_field="type", forbid_unknown_fields=True):
    """The visitor is still there: keeps an idle timeout from running out."""


# One lifecycle event, chosen by `type`.
SessionEvent = (
    RecogniseEvent
    | RegisterPartialEvent
    | LoginEvent
    | LogoutEvent
    | PageviewEvent
    | HeartbeatEvent
)

# Events that move the state, and where each one goes.
_TARGETS: Final[dict[type[Struct], SessionState]] = {
    RecogniseEvent: "recognised",
    RegisterPartialEvent: "partially_registered",
    LoginEvent: "authenticated",
    LogoutEvent: "anonymous",
}

LEGAL_TRANSITIONS: Final[frozenset[tuple[SessionState, SessionState]]] = frozenset(
    {
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
)


def event_name(event: Struct) -> str:
    return str(type(event).__struct_config__.tag)


# ---- timers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timers:
    """A site's lifetimes in milliseconds; `idle_ms` None means no idle timeout."""

    authenticated_ms: int
    anonymous_ms: int
    idle_ms: int | None
    logout: LogoutBehaviour


def timers_for(settings: SiteSettings, default_days: int) -> Timers:
    """The site's timers; unset lifetimes fall back to the instance's default."""
    authenticated_days = settings.session_lifetime_days or default_days
    anonymous_days = settings.anonymous_lifetime_days or authenticated_days
    idle = settings.idle_timeout_minutes
    return Timers(
        authenticated_ms=authenticated_days * DAY_MS,
        anonymous_ms=anonymous_days * DAY_MS,
        idle_ms=idle * MINUTE_MS if idle is not None else None,
        logout=settings.logout,
    )


def expiry_ms(session: Session, timers: Timers) -> int:
    """The earlier of the absolute expiry (from creation, by state) and the idle expiry."""
    lifetime = timers.authenticated_ms if session.state == "authenticated" else timers.anonymous_ms
    absolute = rfc3339_to_ms(session.created_at) + lifetime
    if timers.idle_ms is None:
        return absolute
    return min(absolute, rfc3339_to_ms(session.last_seen_at) + timers.idle_ms)


def refresh_expiry(session: Session, timers: Timers) -> None:
    session.expires_at = ms_to_rfc3339(expiry_ms(session, timers))


# ---- applying an event --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an event did beyond the document: callers refresh what depends on it."""

    identity_changed: bool
    ended: bool


def require_active(session: Session) -> None:
    if session.status != "active":
        raise LifecycleError(
            "session_inactive",
            f"session is {session.status}; it can no longer change",
            {"status": session.status},
        )


def check_transition(current: SessionState, target: SessionState, event: str) -> None:
    if (current, target) not in LEGAL_TRANSITIONS:
        raise LifecycleError(
            "illegal_transition",
            f"{event} cannot move a session from {current} to {target}",
            {"from": current, "to": target, "event": event},
        )


def apply_event(session: Session, event: Struct, timers: Timers, at_ms: int) -> Outcome:
    """Change `session` as `event` says at `at_ms`; LifecycleError when it may not."""
    require_active(session)
    seen = max(at_ms, rfc3339_to_ms(session.last_seen_at))
    session.last_seen_at = ms_to_rfc3339(seen)
    outcome = Outcome(identity_changed=False, ended=False)
    target = _TARGETS.get(type(event))
    if target is not None:
        check_transition(session.state, target, event_name(event))
        outcome = _move(session, event, target, timers, seen)
    elif isinstance(event, PageviewEvent):
        _count_page_view(session, event)
    if not outcome.ended:
        refresh_expiry(session, timers)
    return outcome


def _move(
    session: Session, event: Struct, target: SessionState, timers: Timers, at_ms: int
) -> Outcome:
    if isinstance(event, LogoutEvent) and timers.logout == "release":
        # The session ends as it was: its user and state stay for the record.
        session.status = "released"
        session.released_at = ms_to_rfc3339(at_ms)
        return Outcome(identity_changed=False, ended=True)
    session.state = target
    session.user = getattr(event, "user", None)
    return Outcome(identity_changed=True, ended=False)


def _count_page_view(session: Session, event: PageviewEvent) -> None:
    session.behaviour.page_views += 1
    if event.page_url is not None:
        session.page_url = event.page_url
    if event.referrer is not None:
        session.referrer = event.referrer


def revoke(session: Session, at_ms: int) -> None:
    """End a session by an administrator's order; it keeps the time it first ended."""
    if session.status != "revoked":
        session.status = "revoked"
        session.released_at = session.released_at or ms_to_rfc3339(at_ms)


def visitor_key(session: Session) -> str:
    """Who the visitor is, as lastingly as known: the user, else the device, else the session."""
    if session.user is not None:
        return f"user:{session.user.id}"
    if session.device_id is not None:
        return f"device:{session.device_id}"
    return f"session:{session.id}"
