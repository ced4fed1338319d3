"""Helpers of the compatible-API tests: session profiles, signed Zephr requests, keys."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx

from sessionscope.auth.zephr_hmac import authorization
from tests.conftest import Stack

MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

# The sessions every dialect is checked on: what a site backend sends to POST /v1/sessions.
PROFILES: dict[str, dict[str, Any]] = {
    "desktop": {
        "ip": "81.2.69.142",
        "user_agent": MAC_CHROME,
        "accept_language": "en-GB,en;q=0.9",
        "page_url": "https://shop.example/p/1",
        "headers": {"Sec-CH-UA-Platform": '"macOS"', "Sec-CH-UA-Mobile": "?0"},
        "signals": {
            "screen_width": 2056,
            "screen_height": 1329,
            "hardware_concurrency": 16,
            "device_memory": 8,
            "gpu_renderer": "ANGLE (Apple, ANGLE Metal Renderer: Apple M4 Max)",
            "timezone": "Europe/London",
            "language": "en-GB",
            "languages": ["en-GB", "en"],
        },
        "behaviour": {"mouse_num_events": 84, "click_num_events": 2, "clipboard_num_events": 1},
    },
    "mobile": {
        "ip": "216.160.83.56",
        "user_agent": IPHONE,
        "site": "shop",
        "signals": {"screen_width": 390, "screen_height": 844, "touch_points": 5},
        "behaviour": {"touch_num_events": 12, "scroll_num_events": 4},
    },
    "anonymous": {"ip": "2.125.160.216", "user_agent": ANDROID_TABLET},
    "authenticated": {
        "ip": "89.160.20.112",
        "user_agent": WINDOWS_EDGE,
        "user": {
            "id": "UU0123456789ABCD",
            "name": "Ada Lovelace",
            "url": "https://shop.example/users/ada",
            "email": "ada@example.com",
        },
        "account_ids": ["john-doe"],
        "state": "authenticated",
        "session_variables": {"plan": "pro"},
        "test_groups": {"checkout": "b"},
        "second_party_data": {"segment": "loyal"},
    },
    "released": {
        "ip": "81.2.69.160",
        "user_agent": MAC_CHROME,
        "user": {"id": "UU-released"},
        "state": "recognised",
    },
    "bot": {"ip": "66.249.66.1", "user_agent": GOOGLEBOT},
}


def create_session(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/v1/sessions", json=body)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def create_profiles(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each profile's session as the native API reads it back, released where it says so."""
    native: dict[str, dict[str, Any]] = {}
    with stack.client(stack.key()) as client:
        for name, body in PROFILES.items():
            made = create_session(client, body)
            if name == "released":
                assert client.post(f"/v1/sessions/{made['id']}/release").status_code == 200
            read = client.get(f"/v1/sessions/{made['id']}")
            assert read.status_code == 200, read.text
            native[name] = read.json()
    return native


def new_key(stack: Stack, **body: Any) -> dict[str, Any]:
    """A key of tenant acme made through the admin API: {"key": ...} or an HMAC pair."""
    with stack.client(stack.key()) as client:
        answer = client.post("/v1/keys", json=body)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def zephr_signature(
    access_key: str,
    secret_key: str,
    path: str,
    *,
    query: str = "",
    method: str = "GET",
    timestamp_ms: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    value = authorization(
        access_key,
        secret_key,
        method,
        path,
        query=query,
        timestamp_ms=int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        nonce=nonce or secrets.token_hex(12),
    )
    return {"authorization": value}


def zephr_get(
    base_url: str,
    path: str,
    access_key: str,
    secret_key: str,
    *,
    signed_path: str | None = None,
    **signing: Any,
) -> httpx.Response:
    """GET /compat/zephr{path}, signed for `signed_path` (default: Zephr's own path)."""
    plain_path = path.partition("?")[0]
    headers = zephr_signature(access_key, secret_key, signed_path or plain_path, **signing)
    return httpx.get(f"{base_url}/compat/zephr{path}", headers=headers, timeout=30)


def acme_zephr_get(stack: Stack, path: str, **signing: Any) -> httpx.Response:
    pair = stack.tenants["acme"]
    return zephr_get(
        stack.base_url, path, pair["hmac_access_key"], pair["hmac_secret_key"], **signing
    )
