"""The compatible APIs' renderers: pure functions from the native document (unit)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope.dialects import isnotai, mobilenext, verisoul, zephr
from sessionscope.dialects.shared import uuid_text
from sessionscope.model import RiskSignal, Session, User

BASE: dict[str, Any] = {
    "id": "01976a9b-3a1e-7c3d-9f00-0123456789ab",
    "tenant": "company",
    "site": "demo",
    "site_uuid": "00000000-0000-0000-0000-000000000001",
    "version": 3,
    "created_at": "2024-02-08T14:29:05.123Z",
    "updated_at": "2024-02-08T15:01:00.685Z",
    "last_seen_at": "2024-02-08T15:01:00.685Z",
    "expires_at": "2025-02-08T09:05:00.000Z",
    "state": "anonymous",
    "status": "active",
    "ip": "81.2.69.142",
    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/137.0.0.0",
}


def session(**changes: Any) -> Session:
    return msgspec.convert({**BASE, **changes}, Session)


def full_session() -> Session:
    return session(
        state="authenticated",
        user={"id": "UU0123456789ABCD", "name": "Ada", "url": "https://x.example/ada"},
        account_ids=["john-doe"],
        device_id="6yONB4zT6k2i7SXvWkwC9s",
        page_url="https://shop.example/p/1",
        device={
            "category": "desktop",
            "type": "Mac",
            "name": "Apple Macintosh",
            "os": "macOS 10.15.7",
            "os_version": "10.15.7",
            "platform": "macOS",
            "cpu_cores": 16,
            "memory": 0.5,
            "gpu": "ANGLE (Apple M4 Max)",
            "screen_width": 2056,
            "screen_height": 1329,
        },
        browser={
            "type": "Chrome",
            "version": "137.0.0.0",
            "language": "en-US",
            "timezone": "America/Chicago",
            "user_agent": "UA",
        },
        location={
            "continent": "NA",
            "country_code": "US",
            "state": "Texas",
            "city": "Austin",
            "zip_code": "78729",
            "timezone": "America/Chicago",
            "latitude": 30.4521,
            "longitude": -97.7688,
            "true_country_code": "MX",
        },
        network={
            "ip_address": "81.2.69.142",
            "service_provider": "AT&T",
            "connection_type": "business",
        },
        behaviour={"mouse_num_events": 84, "click_num_events": 2, "clipboard_num_events": 1},
        risk={
            "vpn": {"flag": True, "score": 0.9, "reasons": ["listed"]},
            "spoofed_ip": {"flag": False, "score": 0.1},
        },
        bot={"score": 0.82, "is_bot": True, "flags": ["webdriver", "headless_browser"]},
        access={
            "user_state": "registered",
            "granted_bundles": ["b1"],
            "delivered_entitlements": [
                {"id": "e1", "direct": False, "metered_by": ["m1"], "credited_by": []}
            ],
            "meters": {
                "m1": {
                    "refresh_time": "2024-03-01T00:00:00.000Z",
                    "meter_size": 5,
                    "remaining_credits": 3,
                    "content_ids": ["a", "b"],
                    "content_id_transform": None,
                }
            },
            "credits": {
                "c1": {"remaining_credits": 2, "content_ids": [], "content_id_transform": "lower"}
            },
        },
        session_variables={"plan": "pro"},
        test_groups={"exp": "b"},
    )


def encoded(view: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(view))
    return decoded


# ---- zephr -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-08T14:29:59.999Z", "2024-02-08 14:29 PM UTC"),
        ("2024-02-08T00:05:00.000Z", "2024-02-08 00:05 AM UTC"),
        ("2024-02-08T11:59:00.000Z", "2024-02-08 11:59 AM UTC"),
        ("2024-02-08T12:00:00.000Z", "2024-02-08 12:00 PM UTC"),
        ("2024-02-08T23:30:00.000+02:00", "2024-02-08 21:30 PM UTC"),
    ],
)
def test_zephr_dates_use_the_24_hour_clock_with_an_am_pm_suffix(text: str, expected: str) -> None:
    assert zephr.zephr_date(text) == expected


def test_zephr_view_of_a_known_session() -> None:
    body = encoded(zephr.render(full_session(), []))
    assert list(body) == [
        "tenantId",
        "subTenantId",
        "authenticated",
        "v",
        "session_variables",
        "user_id",
        "sessions",
        "access_model",
        "last_updated",
        "test_groups",
        "second_party_data",
    ]
    assert body["subTenantId"] == "company|demo" and body["authenticated"] is True
    assert body["v"] == 3 and body["user_id"] == "UU0123456789ABCD"
    assert body["last_updated"] == 1707404460685
    assert body["sessions"] == [
        {
            "supplied": True,
            "expiryDate": "2025-02-08 09:05 AM UTC",
            "startDate": "2024-02-08 14:29 PM UTC",
            "state": "authenticated",
            "device": "pc",
            "browser": "Chrome",
            "os": "Mac OSX",
            "city": "Austin",
            "geoState": "Texas",
            "deviceName": "Apple Macintosh",
            "country": "US",
            "session_id": BASE["id"],
        }
    ]


def test_zephr_access_model_is_camel_case() -> None:
    model = encoded(zephr.render(full_session(), []))["access_model"]
    assert model == {
        "meters": {
            "m1": {
                "refreshTime": "2024-03-01T00:00:00.000Z",
                "meterSize": 5,
                "remainingCredits": 3,
                "contentIds": ["a", "b"],
                "contentIdTransform": None,
            }
        },
        "credits": {"c1": {"remainingCredits": 2, "contentIds": [], "contentIdTransform": "lower"}},
        "delivered_entitlements": [
            {"id": "e1", "direct": False, "meteredBy": ["m1"], "creditedBy": []}
        ],
        "granted_bundles": ["b1"],
        "jwt_bundles": [],
        "user_state": "registered",
    }


def test_zephr_lists_the_users_other_active_sessions_after_the_supplied_one() -> None:
    mine = full_session()
    other = session(
        id=str(uuid.uuid4()), state="authenticated", user=msgspec.to_builtins(mine.user)
    )
    body = encoded(zephr.render(mine, [other, mine]))
    assert [(s["session_id"], s["supplied"]) for s in body["sessions"]] == [
        (mine.id, True),
        (other.id, False),
    ]


def test_zephr_leaves_out_what_is_unknown_and_ends_released_sessions_at_release() -> None:
    released = session(status="released", released_at="2024-02-09T08:00:00.000Z")
    body = encoded(zephr.render(released, []))
    assert "user_id" not in body and body["authenticated"] is False
    entry = body["sessions"][0]
    assert entry["expiryDate"] == "2024-02-09 08:00 AM UTC"
    assert set(entry) == {"supplied", "expiryDate", "startDate", "state", "session_id"}
    assert "user_state" not in body["access_model"]


@pytest.mark.parametrize(
    ("category", "word"),
    [("desktop", "pc"), ("mobile", "mobile"), ("tablet", "tablet"), ("smarttv", "tv")],
)
def test_zephr_device_vocabulary(category: str, word: str) -> None:
    entry = encoded(zephr.render(session(device={"category": category}), []))["sessions"][0]
    assert entry["device"] == word


# ---- verisoul --------------------------------------------------------------------------


def test_verisoul_view_of_a_known_session() -> None:
    body = encoded(verisoul.render(full_session(), "7c1fb7c5-8e5f-43f0-b35e-56b9698dac0f"))
    assert body["project_id"] == BASE["site_uuid"] and body["session_id"] == BASE["id"]
    assert body["start_time"] == BASE["created_at"]
    assert body["true_country_code"] == "MX"
    assert body["network"]["connection_type"] == "isp"  # business line
    assert body["device"]["memory"] == 1  # 0.5 GB, to Verisoul's integer
    assert body["device"]["category"] == "desktop" and body["device"]["os"] == "macOS 10.15.7"
    assert body["bot"] == {
        "mouse_num_events": 84,
        "click_num_events": 2,
        "keyboard_num_events": 0,
        "touch_num_events": 0,
        "clipboard_num_events": 1,
    }
    assert body["risk_signals"] == {"vpn": True, "spoofed_ip": False}
    assert body["risk_signal_scores"] == {"vpn": 0.9}  # Verisoul has no spoofed_ip score


def test_verisoul_true_country_falls_back_to_the_ip_country() -> None:
    body = encoded(verisoul.render(session(location={"country_code": "GB"}), "r"))
    assert body["true_country_code"] == "GB"
    assert body["location"] == {"country_code": "GB"}


def test_verisoul_leaves_unjudged_signals_out() -> None:
    body = encoded(verisoul.render(session(), "r"))
    assert body["risk_signals"] == {} and body["risk_signal_scores"] == {}
    assert "device_id" not in body and "true_country_code" not in body


def test_verisoul_scores_every_signal_it_documents() -> None:
    signals = {
        name: RiskSignal(flag=False, score=0.25)
        for name in verisoul.VerisoulRiskSignals.__struct_fields__
    }
    judged = session()
    for name, signal in signals.items():
        setattr(judged.risk, name, signal)
    body = encoded(verisoul.render(judged, "r"))
    assert set(body["risk_signals"]) == set(signals)
    assert set(body["risk_signal_scores"]) == set(signals) - {"spoofed_ip"}


# ---- mobile next -----------------------------------------------------------------------


def test_mobilenext_user_is_a_stable_uuid5_per_user_device_or_session() -> None:
    authenticated = full_session()
    again = session(id=str(uuid.uuid4()), user={"id": "UU0123456789ABCD"}, state="authenticated")
    assert mobilenext.user_uuid(authenticated) == mobilenext.user_uuid(again)
    assert uuid.UUID(mobilenext.user_uuid(authenticated)).version == 5
    other_tenant = session(tenant="other", user={"id": "UU0123456789ABCD"}, state="authenticated")
    assert mobilenext.user_uuid(other_tenant) != mobilenext.user_uuid(authenticated)
    by_device = session(device_id="dev1")
    assert mobilenext.user_uuid(by_device) == mobilenext.user_uuid(
        session(id=str(uuid.uuid4()), device_id="dev1")
    )
    alone = session()
    assert mobilenext.user_uuid(alone) != mobilenext.user_uuid(session(id=str(uuid.uuid4())))


def test_mobilenext_view() -> None:
    body = encoded(mobilenext.render(full_session()))
    assert body == {
        "id": BASE["id"],
        "organization": BASE["site_uuid"],
        "user": mobilenext.user_uuid(full_session()),
        "device": {
            "id": "6yONB4zT6k2i7SXvWkwC9s",
            "platform": "macOS",
            "type": "real",
            "name": "Apple Macintosh",
            "osVersion": "10.15.7",
        },
        "createdAt": BASE["created_at"],
        "releasedAt": None,
    }


def test_mobilenext_emulated_device_and_unknown_strings() -> None:
    body = encoded(
        mobilenext.render(
            session(device={"emulated": True}, released_at="2024-02-09T00:00:00.000Z")
        )
    )
    assert body["device"] == {
        "id": "",
        "platform": "",
        "type": "emulator",
        "name": "",
        "osVersion": "",
    }
    assert body["releasedAt"] == "2024-02-09T00:00:00.000Z"


# ---- isnotai ---------------------------------------------------------------------------


def test_isnotai_view() -> None:
    body = encoded(isnotai.render(full_session()))
    assert body == {
        "data": {
            "id": BASE["id"],
            "createdAt": BASE["created_at"],
            "updatedAt": BASE["updated_at"],
            "status": "active",
            "botScore": 0.82,
            "detectionFlags": ["webdriver", "headless_browser"],
            "pageUrl": "https://shop.example/p/1",
            "userAgentSummary": "Chrome 137 on macOS",
            "userId": "UU0123456789ABCD",
            "userName": "Ada",
            "userUrl": "https://x.example/ada",
        }
    }


@pytest.mark.parametrize("status", ["expired", "released", "revoked"])
def test_isnotai_ended_sessions_are_closed(status: str) -> None:
    assert encoded(isnotai.render(session(status=status)))["data"]["status"] == "closed"


def test_isnotai_summary_says_only_what_is_known() -> None:
    assert (
        isnotai.user_agent_summary(session(browser={"type": "curl", "version": "8.5.0"}))
        == "curl 8"
    )
    assert (
        isnotai.user_agent_summary(session(browser={"type": "Safari"}, device={"platform": "iOS"}))
        == "Safari on iOS"
    )
    assert isnotai.user_agent_summary(session()) is None
    data = encoded(isnotai.render(session()))["data"]
    assert set(data) == {"id", "createdAt", "updatedAt", "status", "detectionFlags"}


def test_user_without_name_or_url_shows_only_the_id() -> None:
    data = encoded(
        isnotai.render(session(state="authenticated", user=msgspec.to_builtins(User(id="u1"))))
    )["data"]
    assert data["userId"] == "u1" and "userName" not in data and "userUrl" not in data


# ---- the partial reads of the stored document ------------------------------------------


def varied_sessions() -> list[Session]:
    return [
        full_session(),
        session(),
        session(status="released", released_at="2024-02-09T08:00:00.000Z"),
        session(device={"emulated": True, "category": "smarttv"}, device_id="dev1"),
        session(state="recognised", user={"id": "u1"}, location={"country_code": "GB"}),
    ]


@pytest.mark.parametrize("index", range(5))
def test_each_view_reads_from_its_partial_decode_what_it_reads_from_the_whole_session(
    index: int,
) -> None:
    """The hot path decodes only the fields a view reads; nothing the view shows is lost."""
    whole = varied_sessions()[index]
    doc = msgspec.json.encode(whole)
    assert encoded(isnotai.render(isnotai._source.decode(doc))) == encoded(isnotai.render(whole))
    assert encoded(verisoul.render(verisoul._source.decode(doc), "r")) == encoded(
        verisoul.render(whole, "r")
    )
    assert encoded(mobilenext.render(mobilenext._source.decode(doc))) == encoded(
        mobilenext.render(whole)
    )
    others = [zephr._entry_source.decode(msgspec.json.encode(s)) for s in varied_sessions()]
    assert encoded(zephr.render(zephr._source.decode(doc), others)) == encoded(
        zephr.render(whole, varied_sessions())
    )


@given(st.binary(min_size=16, max_size=20), st.sampled_from([4, 5]))
def test_uuid_text_is_what_the_uuid_module_prints(raw: bytes, version: int) -> None:
    assert uuid_text(raw, version) == str(uuid.UUID(bytes=raw[:16], version=version))


def test_mobilenext_user_is_exactly_uuid5_of_the_fixed_namespace() -> None:
    """Users' UUIDs are stable forever: the same as uuid.uuid5 has always made them."""
    for one in varied_sessions():
        if one.user is not None:
            name = f"{one.tenant}|user|{one.user.id}"
        elif one.device_id is not None:
            name = f"{one.tenant}|device|{one.device_id}"
        else:
            name = f"{one.tenant}|session|{one.id}"
        assert mobilenext.user_uuid(one) == str(uuid.uuid5(mobilenext.USER_NAMESPACE, name))


def test_verisoul_request_ids_are_fresh_version_4_uuids() -> None:
    made = {verisoul.request_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(uuid.UUID(one).version == 4 and str(uuid.UUID(one)) == one for one in made)
