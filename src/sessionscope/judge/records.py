"""What the store answers to judgement's questions, and the feedback it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HistoryColumn = Literal["user_id", "device_id", "ip"]
FeedbackLabel = Literal["fraud", "legit", "bot", "human"]


@dataclass(frozen=True, slots=True)
class FraudSighting:
    """A session near an IP that was labelled fraud, or judged fake."""

    session_id: str
    ip: str | None
    created_ms: int
    labelled: bool  # True: labelled fraud by the site; False: judged fake by us


@dataclass(frozen=True, slots=True)
class Recent:
    """The newest `limit` sessions of `value` created from `since_ms` until the judged
    session was."""

    value: str
    since_ms: int
    limit: int


@dataclass(frozen=True, slots=True)
class Counted:
    """Sessions of each subject created in each window (from each `since_ms` until the
    judged session was), counting no further than the newest `limit`."""

    subjects: tuple[tuple[HistoryColumn, str], ...]
    since_ms: tuple[int, ...]
    limit: int


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """Everything judging one session asks of the store, answered by one read.

    Every question looks back from the session's creation and leaves the session out.
    """

    tenant: str
    session_id: str
    created_ms: int
    previous_of: tuple[tuple[HistoryColumn, str], ...] = ()  # whose previous session
    fraud_near: Recent | None = None  # value: an IP prefix
    device_users: Recent | None = None  # value: a device id
    counted: Counted | None = None


@dataclass(frozen=True, slots=True)
class HistoryAnswer:
    """The store's answers to a `HistoryRequest`; a question not asked has an empty answer."""

    previous: dict[HistoryColumn, bytes]  # the previous session's document, per owner found
    fraud: list[FraudSighting]  # newest first, each session once
    device_users: list[str]  # distinct
    counts: dict[HistoryColumn, list[int]]  # per subject, a count per window


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """A site's label on one of its sessions, with the session's IP copied for look-ups."""

    tenant: str
    session_id: str
    site: str
    label: FeedbackLabel
    note: str | None
    ip: str | None
    ip_prefix: str | None
    session_created_ms: int
    labelled_ms: int


@dataclass(frozen=True, slots=True)
class VerdictCount:
    """How many labelled sessions of a site got one verdict: a cell of the confusion table."""

    site: str
    label: str
    decision: str | None
    is_bot: bool | None
    count: int
