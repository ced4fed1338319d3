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
