"""Verisoul: `GET /session/{session_id}`, field for field as its OpenAPI document.

Auth is a secret key in `x-api-key`. A missing session answers Verisoul's own
`400 {"statusCode":400,"message":"Session ID not found"}`.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from sessionscope.dialects.shared import (
    AtOnceHandler,
    CompatRequest,
    CompatRouter,
    Handler,
    cached_stored,
    find_stored,
    known,
    read_at_once,
    secret_principal,
    uuid_text,
)
from sessionscope.http.errors import ApiError
from sessionscope.http.guard import visible_sites
from sessionscope.http.openapi import Operation, Parameter
from sessionscope.http.state import AppState
from sessionscope.ids import random_bytes
from sessionscope.model import (
    Behaviour,
    Browser,
    Device,
    DeviceCategory,
    Location,
    Network,
    Risk,
    RiskSignal,
    Session,
)
from sessionscope.store.base import StoredSession

PREFIX = "/compat/verisoul"
SESSION_PATH = PREFIX + "/session/{session_id}"
NOT_FOUND_MESSAGE = "Session ID not found"

# Verisoul names six connection types; a business line is a fixed ISP connection.
CONNECTION_TYPES = {"business": "isp"}


# ---- the view ---------------------------------------------------------------------------


class VerisoulNetwork(Struct, kw_only=True):
    ip_address: str | UnsetType = UNSET
    service_provider: str | UnsetType = UNSET
    connection_type: str | UnsetType = UNSET


class VerisoulLocation(Struct, kw_only=True):
    continent: str | UnsetType = UNSET
    country_code: str | UnsetType = UNSET
    state: str | UnsetType = UNSET
    city: str | UnsetType = UNSET
    zip_code: str | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    latitude: float | UnsetType = UNSET
    longitude: float | UnsetType = UNSET


class VerisoulBrowser(Struct, kw_only=True):
    type: str | UnsetType = UNSET
    version: str | UnsetType = UNSET
    language: str | UnsetType = UNSET
    user_agent: str | UnsetType = UNSET
    timezone: str | UnsetType = UNSET


class VerisoulDevice(Struct, kw_only=True):
    category: DeviceCategory | UnsetType = UNSET
    type: str | UnsetType = UNSET
    os: str | UnsetType = UNSET
    cpu_cores: int | UnsetType = UNSET
    memory: int | UnsetType = UNSET
    gpu: str | UnsetType = UNSET
    screen_height: int | UnsetType = UNSET
    screen_width: int | UnsetType = UNSET


class VerisoulBot(Struct, kw_only=True):
    mouse_num_events: int
    click_num_events: int
    keyboard_num_events: int
    touch_num_events: int
    clipboard_num_events: int


class VerisoulRiskSignals(Struct, kw_only=True):
    device_risk: bool | UnsetType = UNSET
    proxy: bool | UnsetType = UNSET
    vpn: bool | UnsetType = UNSET
    tor: bool | UnsetType = UNSET
    spoofed_ip: bool | UnsetType = UNSET
    datacenter: bool | UnsetType = UNSET
    recent_fraud_ip: bool | UnsetType = UNSET
    impossible_travel: bool | UnsetType = UNSET
    device_network_mismatch: bool | UnsetType = UNSET
    location_spoofing: bool | UnsetType = UNSET


class VerisoulRiskSignalScores(Struct, kw_only=True):
    """Verisoul publishes no score for spoofed_ip; neither do we here."""

    device_risk: float | UnsetType = UNSET
    proxy: float | UnsetType = UNSET
    vpn: float | UnsetType = UNSET
    tor: float | UnsetType = UNSET
    datacenter: float | UnsetType = UNSET
    recent_fraud_ip: float | UnsetType = UNSET
    impossible_travel: float | UnsetType = UNSET
    device_network_mismatch: float | UnsetType = UNSET
    location_spoofing: float | UnsetType = UNSET


class VerisoulSession(Struct, kw_only=True):
    account_ids: list[str]
    request_id: str
    project_id: str
    session_id: str
    start_time: str
    true_country_code: str | UnsetType = UNSET
    device_id: str | UnsetType = UNSET
    network: VerisoulNetwork
    location: VerisoulLocation
    browser: VerisoulBrowser
    device: VerisoulDevice
    bot: VerisoulBot
    risk_signals: VerisoulRiskSignals
    risk_signal_scores: VerisoulRiskSignalScores


class VerisoulError(Struct):
    status_code: int = msgspec.field(name="statusCode")
    message: str


# ---- rendering --------------------------------------------------------------------------


class VerisoulSource(Struct, kw_only=True):
    """The fields of the native session this view reads; the rest of the document is skipped."""

    id: str
    site_uuid: str
    created_at: str
    account_ids: list[str] = []
    device_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    device: Device = msgspec.field(default_factory=Device)
    browser: Browser = msgspec.field(default_factory=Browser)
    location: Location = msgspec.field(default_factory=Location)
    network: Network = msgspec.field(default_factory=Network)
    behaviour: Behaviour = msgspec.field(default_factory=Behaviour)
    risk: Risk = msgspec.field(default_factory=Risk)


Source = Session | VerisoulSource
_source = msgspec.json.Decoder(VerisoulSource)
_SIGNALS = VerisoulRiskSignals.__struct_fields__
_SCORED = frozenset(VerisoulRiskSignalScores.__struct_fields__)


def request_id() -> str:
    """A fresh random UUID (version 4), as uuid.uuid4() makes it."""
    return uuid_text(random_bytes(16), 4)


def whole_gigabytes(memory: float | None) -> int | None:
    """Verisoul's memory is an integer of GB; browsers report 0.25, 0.5, 1, 2, 4, 8 ..."""
    return None if memory is None else math.floor(memory + 0.5)


def network(session: Source) -> VerisoulNetwork:
    kind = session.network.connection_type
    return VerisoulNetwork(
        ip_address=known(session.network.ip_address or session.ip),
        service_provider=known(session.network.service_provider),
        connection_type=known(CONNECTION_TYPES.get(kind, kind) if kind else None),
    )


def location(session: Source) -> VerisoulLocation:
    where = session.location
    return VerisoulLocation(
        continent=known(where.continent),
        country_code=known(where.country_code),
        state=known(where.state),
        city=known(where.city),
        zip_code=known(where.zip_code),
        timezone=known(where.timezone),
        latitude=known(where.latitude),
        longitude=known(where.longitude),
    )


def browser(session: Source) -> VerisoulBrowser:
    agent = session.browser
    return VerisoulBrowser(
        type=known(agent.type),
        version=known(agent.version),
        language=known(agent.language),
        user_agent=known(agent.user_agent or session.user_agent),
        timezone=known(agent.timezone),
    )


def device(session: Source) -> VerisoulDevice:
    machine = session.device
    return VerisoulDevice(
        category=known(machine.category),
        type=known(machine.type),
        os=known(machine.os),
        cpu_cores=known(machine.cpu_cores),
        memory=known(whole_gigabytes(machine.memory)),
        gpu=known(machine.gpu),
        screen_height=known(machine.screen_height),
        screen_width=known(machine.screen_width),
    )


def bot(session: Source) -> VerisoulBot:
    counts = session.behaviour
    return VerisoulBot(
        mouse_num_events=counts.mouse_num_events,
        click_num_events=counts.click_num_events,
        keyboard_num_events=counts.keyboard_num_events,
        touch_num_events=counts.touch_num_events,
        clipboard_num_events=counts.clipboard_num_events,
    )


def _judged(risk: Risk) -> list[tuple[str, RiskSignal]]:
    found = ((name, getattr(risk, name)) for name in _SIGNALS)
    return [(name, signal) for name, signal in found if signal is not None]


def risk_signals(judged: list[tuple[str, RiskSignal]]) -> VerisoulRiskSignals:
    return VerisoulRiskSignals(**{name: signal.flag for name, signal in judged})


def risk_signal_scores(judged: list[tuple[str, RiskSignal]]) -> VerisoulRiskSignalScores:
    return VerisoulRiskSignalScores(
        **{name: signal.score for name, signal in judged if name in _SCORED}
    )


def render(session: Source, request_id: str) -> VerisoulSession:
    where = session.location
    judged = _judged(session.risk)
    return VerisoulSession(
        account_ids=session.account_ids,
        request_id=request_id,
        project_id=session.site_uuid,
        session_id=session.id,
        start_time=session.created_at,
        true_country_code=known(where.true_country_code or where.country_code),
        device_id=known(session.device_id),
        network=network(session),
        location=location(session),
        browser=browser(session),
        device=device(session),
        bot=bot(session),
        risk_signals=risk_signals(judged),
        risk_signal_scores=risk_signal_scores(judged),
    )


# ---- routes -----------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        SESSION_PATH,
        "Verisoul: get a session",
        "compat: verisoul",
        {
            200: ("session information", VerisoulSession),
            400: ("Session ID not found (Verisoul's answer for a missing session)", VerisoulError),
            401: ("missing or unknown x-api-key", VerisoulError),
            429: ("too many requests for this key; see Retry-After", VerisoulError),
        },
        parameters=(
            Parameter("session_id", "path", {"type": "string"}, "ID of the session", True),
        ),
        security=("verisoulApiKey",),
    ),
)
SECURITY: dict[str, Any] = {
    "verisoulApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "a Sessionscope secret key with the read scope",
    }
}


def envelope(error: ApiError) -> bytes:
    return _encoder.encode(VerisoulError(status_code=error.status, message=error.message))


def session_body(stored: StoredSession) -> bytes:
    return _encoder.encode(render(_source.decode(stored.doc), request_id()))


class VerisoulApi(CompatRouter):
    prefix = PREFIX
    operations: tuple[Operation, ...] = OPERATIONS
    security: dict[str, Any] = SECURITY

    def __init__(self, state: AppState) -> None:
        self.state = state

    def direct_routes(self) -> list[tuple[str, Handler]]:
        return [(SESSION_PATH, self.get)]

    def at_once_handlers(self) -> dict[str, AtOnceHandler]:
        return {SESSION_PATH: self.get_at_once}

    def envelope(self, error: ApiError) -> bytes:
        return envelope(error)

    async def get(self, request: CompatRequest) -> bytes:
        principal = await secret_principal(
            self.state, request.headers, bearer=False, forbidden_status=401
        )
        stored = await find_stored(
            self.state, principal.tenant, request.params["session_id"], visible_sites(principal)
        )
        if stored is None:
            raise ApiError(400, "session_not_found", NOT_FOUND_MESSAGE)
        return session_body(stored)

    def get_at_once(self, request: CompatRequest) -> bytes | None:
        raw_id = request.params["session_id"]
        return read_at_once(
            self.state,
            request.headers,
            bearer=False,
            find=lambda caller: cached_stored(
                self.state, caller.tenant, raw_id, visible_sites(caller)
            ),
            answer=lambda _, stored: session_body(stored),
        )
