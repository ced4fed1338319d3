"""The settings of list and geo data freshness: typed, defaulted, refused when wrong."""

from __future__ import annotations

import pytest

from sessionscope.config import ConfigError, load_settings
from sessionscope.enrich.service import Enricher


def test_defaults_and_values() -> None:
    assert load_settings({}).data_check_seconds == 5.0
    assert load_settings({}).tenant_lists_ttl_seconds == 10.0
    settings = load_settings(
        {"SESSIONSCOPE_DATA_CHECK_SECONDS": "0.5", "SESSIONSCOPE_TENANT_LISTS_TTL_SECONDS": "0"}
    )
    assert settings.data_check_seconds == 0.5 and settings.tenant_lists_ttl_seconds == 0.0


@pytest.mark.parametrize(
    "name", ["SESSIONSCOPE_DATA_CHECK_SECONDS", "SESSIONSCOPE_TENANT_LISTS_TTL_SECONDS"]
)
@pytest.mark.parametrize("value", ["-1", "soon"])
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_the_enricher_checks_its_files_at_the_configured_interval() -> None:
    settings = load_settings({"SESSIONSCOPE_DATA_CHECK_SECONDS": "0.25"})
    enricher = Enricher.from_settings(settings)
    assert enricher.lists._check_interval == 0.25
    assert enricher.geo._check_interval == 0.25
