"""SESSIONSCOPE_COMPAT_RATE_LIMIT: default, parsing, refusal naming the variable."""

from __future__ import annotations

import pytest

from sessionscope.config import ConfigError, load_settings


def test_default_is_1200_requests_a_minute() -> None:
    assert load_settings({}).compat_rate_limit == 1200


def test_value_from_the_environment() -> None:
    assert load_settings({"SESSIONSCOPE_COMPAT_RATE_LIMIT": "60"}).compat_rate_limit == 60


@pytest.mark.parametrize("raw", ["0", "-5", "lots", "1.5", "99999999"])
def test_bad_values_name_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="SESSIONSCOPE_COMPAT_RATE_LIMIT"):
        load_settings({"SESSIONSCOPE_COMPAT_RATE_LIMIT": raw})
