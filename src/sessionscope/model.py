"""Domain types: the session document, its parts, tenancy records and API inputs.

Every type is a msgspec Struct so that validation, JSON encoding and the
OpenAPI schema all come from one definition.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

SessionState = Literal["anonymous", "recognised", "partially_registered", "authenticated"]
SessionStatus = Literal["active", "expired", "released", "revoked"]
DeviceCategory = Literal[
    "desktop", "mobile", "tablet", "console", "smarttv", "wearable", "embedded", "other"
]
ConnectionType = Literal[
    "isp", "mobile", "hosting", "education", "government", "private_relay", "business"
]
Decision = Literal["real", "suspicious", "fake"]
KeyKind = Literal["secret", "publishable", "hmac"]
Scope = Literal["read", "write", "admin"]

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="lower-case slug")]
ShortText = Annotated[str, Meta(max_length=256)]
LongText = Annotated[str, Meta(max_length=4096)]
Identifier = Annotated[str, Meta(min_length=1, max_length=256)]
Count = Annotated[int, Meta(ge=0, le=2**53)]
FreeForm = Annotated[dict[str, Any], Meta(description="object owned by the site, stored as given")]


class User(Struct, forbid_unknown_fields=True):
    id: Identifier
    name: ShortText | None = None
    url: LongText | None = None
    email: ShortText | None = None


class Device(Struct):
    category: DeviceCategory | None = None
    type: str | None = None
    brand: str | None = None
    model: str | None = None
    name: str | None = None
    os: str | None = None
    os_version: str | None = None
    platform: str | None = None
    cpu_cores: int | None = None
    memory: float | None = None
    gpu: str | None = None
    screen_width: int | None = None
    screen_height: int | None = None
    touch_points: int | None = None
    emulated: bool | None = None
    identified_by: Literal["token", "fingerprint", "new"] | None = None
    identification_confidence: Annotated[float, Meta(ge=0, le=1)] | None = None


class Browser(Struct):
    type: str | None = None
    version: str | None = None
    language: str | None = None
    languages: list[str] | None = None
    timezone: str | None = None
    user_agent: str | None = None


class Location(Struct):
    continent: str | None = None
    country_code: str | None = None
    state: str | None = None
    city: str | None = None
    zip_code: str | None = None
    timezone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_radius_km: float | None = None
    true_country_code: str | None = None


class Network(Struct):
    ip_address: str | None = None
    asn: int | None = None
    service_provider: str | None = None
    connection_type: ConnectionType | None = None


class Behaviour(Struct):
    mouse_num_events: Count = 0
    click_num_events: Count = 0
    keyboard_num_events: Count = 0
    touch_num_events: Count = 0
    clipboard_num_events: Count = 0
    scroll_num_events: Count = 0
    page_views: Count = 0
    active_ms: Count = 0


Hash = Annotated[str, Meta(max_length=128)]
SmallText = Annotated[str, Meta(max_length=512)]
Tag = Annotated[str, Meta(max_length=64)]


class UserAgentData(Struct, forbid_unknown_fields=True, kw_only=True):
    """navigator.userAgentData with its high-entropy values, as the browser gave them."""

    brands: Annotated[list[dict[str, SmallText]], Meta(max_length=20)] | None = None
    full_version_list: Annotated[list[dict[str, SmallText]], Meta(max_length=20)] | None = None
    mobile: bool | None = None
    platform: SmallText | None = None
    platform_version: SmallText | None = None
    model: SmallText | None = None
    architecture: SmallText | None = None
    bitness: SmallText | None = None
    form_factors: Annotated[list[SmallText], Meta(max_length=10)] | None = None


class Geolocation(Struct, forbid_unknown_fields=True, kw_only=True):
    """A position the site obtained itself (e.g. the Geolocation API), to compare with the IP."""

    latitude: Annotated[float, Meta(ge=-90, le=90)]
    longitude: Annotated[float, Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, Meta(ge=0)] | None = None


class BrowserSignals(Struct, forbid_unknown_fields=True, kw_only=True):
    """Device signals reported by the browser script (or a site's own collector).

    Every field is optional: absent means not reported. `automation` holds stable
    snake_case trace codes the script observed (e.g. `cdp_runtime`, `selenium_globals`).
    """

    screen_width: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    screen_height: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    avail_width: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    avail_height: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    viewport_width: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    viewport_height: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    pixel_ratio: Annotated[float, Meta(ge=0, le=100)] | None = None
    color_depth: Annotated[int, Meta(ge=0, le=256)] | None = None
    hardware_concurrency: Annotated[int, Meta(ge=0, le=4096)] | None = None
    device_memory: Annotated[float, Meta(ge=0, le=65536)] | None = None
    gpu_vendor: SmallText | None = None
    gpu_renderer: SmallText | None = None
    timezone: Annotated[str, Meta(max_length=64)] | None = None
    timezone_offset_minutes: (
        Annotated[int, Meta(ge=-1440, le=1440, description="minutes east of UTC: UTC+02:00 is 120")]
        | None
    ) = None
    language: Annotated[str, Meta(max_length=64)] | None = None
    languages: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=32)] | None = (
        None
    )
    platform: Annotated[str, Meta(max_length=64)] | None = None
    ua_data: UserAgentData | None = None
    touch_points: Annotated[int, Meta(ge=0, le=256)] | None = None
    webdriver: bool | None = None
    plugins_count: Annotated[int, Meta(ge=0, le=10_000)] | None = None
    mime_types_count: Annotated[int, Meta(ge=0, le=10_000)] | None = None
    cookies_enabled: bool | None = None
    local_storage: bool | None = None
    session_storage: bool | None = None
    indexed_db: bool | None = None
    canvas_hash: Hash | None = None
    audio_hash: Hash | None = None
    fonts_hash: Hash | None = None
    automation: Annotated[list[Tag], Meta(max_length=64)] = []
    public_ip: Annotated[str, Meta(max_length=64)] | None = None
    geolocation: Geolocation | None = None
    device_token: (
        Annotated[
            str,
            Meta(
                min_length=16,
                max_length=128,
                pattern=r"^[A-Za-z0-9_-]+$",
                description="the script's persisted random token; kept only as a digest",
            ),
        ]
        | None
    ) = None


class RiskSignal(Struct):
    flag: bool
    score: Annotated[float, Meta(ge=0, le=1)]
    reasons: list[str] = []


class Risk(Struct):
    device_risk: RiskSignal | None = None
    proxy: RiskSignal | None = None
    vpn: RiskSignal | None = None
    tor: RiskSignal | None = None
    spoofed_ip: RiskSignal | None = None
    datacenter: RiskSignal | None = None
    recent_fraud_ip: RiskSignal | None = None
    impossible_travel: RiskSignal | None = None
    device_network_mismatch: RiskSignal | None = None
    location_spoofing: RiskSignal | None = None
    score: float | None = None
    decision: Decision | None = None


BotKind = Literal["good", "bad", "unknown"]


class Bot(Struct):
    score: float | None = None
    is_bot: bool | None = None
    flags: list[str] = []
    kind: BotKind | None = None  # null while the session is not judged a bot
    reasons: list[str] = []


class DeliveredEntitlement(Struct):
    id: str
    direct: bool
    metered_by: list[str] = []
    credited_by: list[str] = []


class MeterState(Struct, kw_only=True):
    """A meter as this session's visitor stands with it (docs/access.md)."""

    refresh_time: str | None  # end of the current period; null before a relative one starts
    meter_size: int
    remaining_credits: int
    content_ids: list[str] = []
    content_id_transform: str | None = None


class CreditState(Struct, kw_only=True):
    remaining_credits: int
    content_ids: list[str] = []
    content_id_transform: str | None = None


class Access(Struct):
    user_state: str | None = None
    granted_bundles: list[str] = []
    delivered_entitlements: list[DeliveredEntitlement] = []
    meters: dict[str, MeterState] = {}
    credits: dict[str, CreditState] = {}
    jwt_bundles: list[str] = []


class Session(Struct, kw_only=True):
    """The stored session document (DESIGN section 4)."""

    id: str
    tenant: str
    site: str
    site_uuid: str
    version: int
    created_at: str
    updated_at: str
    last_seen_at: str
    expires_at: str | None
    released_at: str | None = None
    state: SessionState
    status: SessionStatus
    user: User | None = None
    account_ids: list[str] = []
    device_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    page_url: str | None = None
    referrer: str | None = None
    accept_language: str | None = None
    headers: dict[str, str] = {}
    device: Device = msgspec.field(default_factory=Device)
    browser: Browser = msgspec.field(default_factory=Browser)
    location: Location = msgspec.field(default_factory=Location)
    network: Network = msgspec.field(default_factory=Network)
    behaviour: Behaviour = msgspec.field(default_factory=Behaviour)
    risk: Risk = msgspec.field(default_factory=Risk)
    bot: Bot = msgspec.field(default_factory=Bot)
    access: Access = msgspec.field(default_factory=Access)
    signals: BrowserSignals = msgspec.field(default_factory=BrowserSignals)
    session_variables: dict[str, Any] = {}
    test_groups: dict[str, Any] = {}
    second_party_data: dict[str, Any] = {}
    metadata: dict[str, Any] = {}


class SessionPage(Struct):
    data: list[Session]
    next_cursor: str | None


# ---- inputs ----------------------------------------------------------------

SessionId = Annotated[
    str,
    Meta(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        description="a UUID; omit it and the service assigns a time-ordered UUIDv7",
    ),
]
AccountIds = Annotated[list[Identifier], Meta(max_length=100)]
Headers = Annotated[dict[Annotated[str, Meta(max_length=128)], LongText], Meta(max_length=100)]


class BehaviourInput(Struct, forbid_unknown_fields=True):
    mouse_num_events: Count = 0
    click_num_events: Count = 0
    keyboard_num_events: Count = 0
    touch_num_events: Count = 0
    clipboard_num_events: Count = 0
    scroll_num_events: Count = 0
    page_views: Count = 0
    active_ms: Count = 0


class SessionCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """What a site backend sends to open a session."""

    ip: Annotated[str, Meta(max_length=64, description="the visitor's IP address")]
    user_agent: LongText
    site: Slug | None = None
    id: SessionId | None = None
    accept_language: ShortText | None = None
    headers: Headers | None = None
    page_url: LongText | None = None
    referrer: LongText | None = None
    user: User | None = None
    account_ids: AccountIds = []
    state: SessionState | None = None
    signals: BrowserSignals | None = None
    behaviour: BehaviourInput | None = None
    session_variables: FreeForm = {}
    test_groups: FreeForm = {}
    second_party_data: FreeForm = {}
    metadata: FreeForm = {}


class SessionPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields a site backend may change; an absent field is left as it is."""

    user: User | UnsetType | None = UNSET
    state: SessionState | UnsetType = UNSET
    account_ids: AccountIds | UnsetType = UNSET
    session_variables: FreeForm | UnsetType = UNSET
    test_groups: FreeForm | UnsetType = UNSET
    second_party_data: FreeForm | UnsetType = UNSET
    metadata: FreeForm | UnsetType = UNSET


# ---- tenancy ---------------------------------------------------------------


class Tenant(Struct, kw_only=True):
    slug: str
    created_at: str


Fraction = Annotated[float, Meta(ge=0, le=1)]
VelocityLimit = Annotated[int, Meta(ge=1, le=5000)]  # counts stop at 5000 (judge/velocity.py)


class VelocityLimits(Struct, forbid_unknown_fields=True, kw_only=True):
    """Sessions allowed per IP, device and user in 5 minutes, 1 hour and 24 hours."""

    ip_5m: VelocityLimit = 30
    ip_1h: VelocityLimit = 120
    ip_24h: VelocityLimit = 1000
    device_5m: VelocityLimit = 10
    device_1h: VelocityLimit = 40
    device_24h: VelocityLimit = 200
    user_5m: VelocityLimit = 10
    user_1h: VelocityLimit = 40
    user_24h: VelocityLimit = 200


LogoutBehaviour = Literal["anonymous", "release"]


class Variant(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    weight: Annotated[int, Meta(ge=0, le=1_000_000)] = 1


class Experiment(Struct, forbid_unknown_fields=True, kw_only=True):
    """An A/B test: each visitor lands in one variant, in proportion to the weights."""

    name: Annotated[str, Meta(min_length=1, max_length=64)]
    variants: Annotated[list[Variant], Meta(min_length=1, max_length=20)]

    def __post_init__(self) -> None:
        names = [variant.name for variant in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment {self.name!r} names a variant twice")
        if sum(variant.weight for variant in self.variants) == 0:
            raise ValueError(f"experiment {self.name!r} needs a variant with a weight above 0")


class SiteSettings(Struct, kw_only=True):
    """Per-site behaviour. Every field has a default; a feature adds its own fields here.

    Stored as JSON on the site; `null` means "use the instance default".
    """

    session_lifetime_days: Annotated[int, Meta(ge=1, le=3650)] | None = None
    # lifecycle (docs/lifecycle.md) ----------------------------------------------
    anonymous_lifetime_days: Annotated[int, Meta(ge=1, le=3650)] | None = None
    idle_timeout_minutes: Annotated[int, Meta(ge=1, le=5_256_000)] | None = None
    logout: LogoutBehaviour = "anonymous"
    retention_days: Annotated[int, Meta(ge=0, le=36_500)] | None = 90
    max_active_sessions_per_user: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    experiments: Annotated[list[Experiment], Meta(max_length=50)] = []
    # judgement (docs/signals.md) ------------------------------------------------
    risk_suspicious_at: Fraction | None = None
    risk_fake_at: Fraction | None = None
    bot_threshold: Fraction | None = None
    travel_speed_kmh: Annotated[float, Meta(gt=0, le=100_000)] | None = None
    recent_fraud_hours: Annotated[int, Meta(ge=1, le=8760)] | None = None
    device_accounts_limit: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    device_accounts_hours: Annotated[int, Meta(ge=1, le=8760)] | None = None
    velocity_limits: VelocityLimits | None = None

    def __post_init__(self) -> None:
        suspicious, fake = self.risk_suspicious_at, self.risk_fake_at
        if suspicious is not None and fake is not None and suspicious > fake:
            raise ValueError("risk_suspicious_at must not be above risk_fake_at")


class Site(Struct, kw_only=True):
    tenant: str
    slug: str
    uuid: str
    is_default: bool
    created_at: str
    settings: SiteSettings = msgspec.field(default_factory=SiteSettings)

    @property
    def sub_tenant_id(self) -> str:
        return f"{self.tenant}|{self.slug}"


class ApiKey(Struct, kw_only=True):
    """A stored credential. Only digests are kept; an HMAC secret is kept encrypted."""

    id: str
    tenant: str
    site: str | None
    kind: KeyKind
    scopes: list[Scope]
    origins: list[str]
    prefix: str
    digest: str
    created_at: str
    revoked_at: str | None = None
    secret_ciphertext: str | None = None


class SiteCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    slug: Slug
    default: bool = False


class KeyCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    kind: KeyKind
    site: Slug | None = None
    scopes: Annotated[list[Scope], Meta(max_length=3)] | None = None
    origins: Annotated[list[LongText], Meta(max_length=50)] = []


class KeyView(Struct, kw_only=True):
    """A key as listed: never the secret."""

    id: str
    tenant: str
    site: str | None
    kind: KeyKind
    scopes: list[Scope]
    origins: list[str]
    prefix: str
    created_at: str
    revoked_at: str | None


class IssuedKey(Struct, kw_only=True):
    """A key at creation, the only time its secret parts are shown."""

    id: str
    tenant: str
    site: str | None
    kind: KeyKind
    scopes: list[Scope]
    origins: list[str]
    created_at: str
    key: str | None = None
    access_key: str | None = None
    secret_key: str | None = None


class SiteView(Struct, kw_only=True):
    tenant: str
    slug: str
    uuid: str
    sub_tenant_id: str
    is_default: bool
    created_at: str
    settings: SiteSettings


class SitePatch(Struct, forbid_unknown_fields=True, kw_only=True):
    """Change a site: make it the default, or change some of its settings."""

    default: Literal[True] | UnsetType = UNSET
    settings: dict[str, Any] | UnsetType = UNSET


def site_view(site: Site) -> SiteView:
    return SiteView(
        tenant=site.tenant,
        slug=site.slug,
        uuid=site.uuid,
        sub_tenant_id=site.sub_tenant_id,
        is_default=site.is_default,
        created_at=site.created_at,
        settings=site.settings,
    )


def key_view(key: ApiKey) -> KeyView:
    return KeyView(
        id=key.id,
        tenant=key.tenant,
        site=key.site,
        kind=key.kind,
        scopes=key.scopes,
        origins=key.origins,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
