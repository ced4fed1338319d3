"""Helpers for /v1/collect tests: a tenant of the test's own with a publishable key."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.server import init_tenant

ORIGIN = "https://shop.example"
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/137.0.0.0 Safari/537.36"
)
DESKTOP_SIGNALS: dict[str, Any] = {
    "screen_width": 2560,
    "screen_height": 1440,
    "viewport_width": 1600,
    "viewport_height": 900,
    "pixel_ratio": 1.5,
    "color_depth": 24,
    "hardware_concurrency": 12,
    "device_memory": 8,
    "gpu_vendor": "Google Inc. (NVIDIA)",
    "gpu_renderer": "ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)",
    "timezone": "Europe/Berlin",
    "timezone_offset_minutes": 60,
    "language": "de-DE",
    "languages": ["de-DE", "de", "en"],
    "platform": "Win32",
    "touch_points": 0,
    "webdriver": False,
    "plugins_count": 5,
    "canvas_hash": "0f1e2d3c4b5a6978",
    "audio_hash": "8877665544332211",
    "automation": [],
}


def signals(**changes: Any) -> dict[str, Any]:
    """The desktop signals with some fields changed (None removes a field)."""
    made = copy.deepcopy(DESKTOP_SIGNALS)
    for name, value in changes.items():
        if value is None:
            made.pop(name, None)
        else:
            made[name] = value
    return made


def new_token() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]


@dataclass
class Collector:
    """A fresh tenant on a served app, with a publishable key allowing ORIGIN."""

    base_url: str
    tenant: str
    secret: str
    key: str
    key_id: str

    @classmethod
    def make(cls, base_url: str, database_url: str, prefix: str = "collect") -> Collector:
        tenant = f"{prefix}-{uuid.uuid4().hex[:10]}"
        made = init_tenant(database_url, tenant, "web")
        with httpx.Client(base_url=base_url, timeout=30) as client:
            issued = client.post(
                "/v1/keys",
                json={"kind": "publishable", "site": "web", "origins": [ORIGIN]},
                headers={"x-api-key": made["secret_key"]},
            )
            assert issued.status_code == 201, issued.text
        body = issued.json()
        return cls(base_url, tenant, made["secret_key"], body["key"], body["id"])

    def post(
        self,
        body: Any,
        *,
        key: str | None = None,
        origin: str | None = ORIGIN,
        in_query: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        chosen = key if key is not None else self.key
        sent = {"user-agent": CHROME_UA, "content-type": "text/plain;charset=UTF-8"}
        if origin is not None:
            sent["origin"] = origin
        if not in_query:
            sent["x-api-key"] = chosen
        sent.update(headers or {})
        params = {"key": chosen} if in_query else {}
        content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).read()
        return httpx.post(
            f"{self.base_url}/v1/collect", params=params, content=content, headers=sent, timeout=30
        )

    def open(self, **body: Any) -> dict[str, Any]:
        answer = self.post({"signals": signals(), **body})
        assert answer.status_code == 201, answer.text
        opened: dict[str, Any] = answer.json()
        return opened

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"x-api-key": self.secret}, timeout=30)

    def session(self, session_id: str) -> dict[str, Any]:
        with self.admin() as client:
            answer = client.get(f"/v1/sessions/{session_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def count_sessions(self) -> int:
        with self.admin() as client:
            page = client.get("/v1/sessions", params={"limit": 500}).json()
        return len(page["data"])
