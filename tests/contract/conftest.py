"""Fixtures of the compatible-API contract tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stack
from tests.contract.compat import create_profiles


@pytest.fixture(scope="session")
def profiles(stack: Stack) -> dict[str, dict[str, Any]]:
    """The profile sessions on this stack, as the native API reads them back."""
    return create_profiles(stack)
