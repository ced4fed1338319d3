"""Stand-ins for what Granian hands an RSGI app: the scope and its headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class FakeHeaders:
    """RSGI's header mapping: `get` gives the first value, `items` every pair in order."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, key: str, default: Any = None) -> Any:
        return next((value for name, value in self.pairs if name == key), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)


@dataclass
class FakeScope:
    path: str = "/"
    query_string: str = ""
    headers: FakeHeaders = field(default_factory=lambda: FakeHeaders([]))
    method: str = "GET"
    proto: str = "http"
    http_version: str = "1.1"
    server: str = "127.0.0.1:8080"
    client: str = "127.0.0.1:50123"
    scheme: str = "http"
