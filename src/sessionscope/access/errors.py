"""The one error the access use-cases raise; each API renders it in its own envelope."""

from __future__ import annotations

from typing import Any


class AccessError(Exception):
    """A refused access request; `code` is stable, `details` names the culprit."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
