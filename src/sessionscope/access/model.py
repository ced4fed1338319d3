"""Types of the access model: definitions (stored per site), grants, decisions.

Each definition is one msgspec Struct used for input, storage and output alike; its
`id` may be left out on creation, and the service then assigns one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Meta, Struct

from sessionscope.model import Access, Identifier

AccessId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$",
        description="letters, digits and _ . : - (up to 100); assigned when left out",
    ),
]
IdList = Annotated[list[AccessId], Meta(max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=256)]
Description = Annotated[str, Meta(max_length=4096)]
Size = Annotated[int, Meta(ge=1, le=1_000_000, description="allowance per period (credits: ever)")]
Counting = Literal["page_views", "unique_content"]
ContentIdTransform = Literal["lowercase", "strip_query"]
DeliveredBy = Literal["direct", "meter", "credit"]
UserState = Literal["anonymous", "registered"]


def check_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        ) from None


class Entitlement(Struct, forbid_unknown_fields=True, kw_only=True):
    """A label that grants access to content (e.g. `premium-articles`)."""

    id: AccessId | None = None
    name: Name
    description: Description | None = None


class CalendarPeriod(Struct, tag="calendar", tag_field="kind", forbid_unknown_fields=True):
    """Resets at the start of every day, ISO week (Monday) or month in `time_zone`."""

    unit: Literal["day", "week", "month"]
    time_zone: Annotated[str, Meta(max_length=64)] = "UTC"

    def __post_init__(self) -> None:
        check_time_zone(self.time_zone)


class RelativePeriod(Struct, tag="relative", tag_field="kind", forbid_unknown_fields=True):
    """Starts at the visitor's first use and lasts `length` hours or days."""

    length: Annotated[int, Meta(ge=1, le=100_000)]
    unit: Literal["hours", "days"]


Period = CalendarPeriod | RelativePeriod


class Meter(Struct, forbid_unknown_fields=True, kw_only=True):
    """A recurring allowance that delivers `entitlements` `size` times per period."""

    id: AccessId | None = None
    name: Name
    description: Description | None = None
    entitlements: Annotated[list[AccessId], Meta(min_length=1, max_length=200)]
    size: Size
    period: Period
    counting: Counting = "page_views"
    content_id_transform: ContentIdTransform | None = None


class Credit(Struct, forbid_unknown_fields=True, kw_only=True):
    """Like a meter, but it never refills: `size` uses in all."""

    id: AccessId | None = None
    name: Name
    description: Description | None = None
    entitlements: Annotated[list[AccessId], Meta(min_length=1, max_length=200)]
    size: Size
    counting: Counting = "page_views"
    content_id_transform: ContentIdTransform | None = None


class Bundle(Struct, forbid_unknown_fields=True, kw_only=True):
    """What a grant (or a user state's default) gives: entitlements outright, meters,
    credits, and other bundles (never itself, directly or through others)."""

    id: AccessId | None = None
    name: Name
    description: Description | None = None
    entitlements: IdList = []
    meters: IdList = []
    credits: IdList = []
    bundles: IdList = []


Definition = Entitlement | Bundle | Meter | Credit

# URL name of each kind of definition → its type, and the name stored in the table.
KINDS: Final[dict[str, type[Definition]]] = {
    "entitlements": Entitlement,
    "bundles": Bundle,
    "meters": Meter,
    "credits": Credit,
}
STORED_KIND: Final[dict[type[Definition], str]] = {
    Entitlement: "entitlement",
    Bundle: "bundle",
    Meter: "meter",
    Credit: "credit",
}
DEFAULTS_KIND: Final = "defaults"
DEFAULTS_ID: Final = "defaults"


class AccessDefaults(Struct, forbid_unknown_fields=True, kw_only=True):
    """The bundle every visitor of a user state holds without a grant (null: none)."""

    anonymous: AccessId | None = None
    registered: AccessId | None = None


class GrantCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: Identifier
    bundle: AccessId
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None


class Grant(Struct, kw_only=True):
    """A bundle given to a user (until `expires_at`, or for good when null)."""

    id: str
    user_id: str
    bundle: str
    expires_at: str | None
    created_at: str


class DecisionRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    content_id: Identifier
    entitlement: AccessId


class AccessDecision(Struct, kw_only=True):
    """The answer: allowed or not, and what delivered the entitlement."""

    decision: Literal["allow", "deny"]
    entitlement: str
    content_id: str
    delivered_by: DeliveredBy | None
    source: str | None  # the bundle (direct), meter or credit that delivered it
    remaining_credits: int | None
    refresh_time: str | None
    access: Access


class EntitlementPage(Struct):
    data: list[Entitlement]
    next_cursor: str | None


class BundlePage(Struct):
    data: list[Bundle]
    next_cursor: str | None


class MeterPage(Struct):
    data: list[Meter]
    next_cursor: str | None


class CreditPage(Struct):
    data: list[Credit]
    next_cursor: str | None


class GrantPage(Struct):
    data: list[Grant]
    next_cursor: str | None


PAGE_OF: Final[dict[type[Definition], type[Struct]]] = {
    Entitlement: EntitlementPage,
    Bundle: BundlePage,
    Meter: MeterPage,
    Credit: CreditPage,
}
