"""Languages a browser prefers, and whether they fit a country (CLDR data through Babel)."""

from __future__ import annotations

from functools import lru_cache

from babel.core import get_global

from sessionscope.model import Session

# A language counts as spoken in a country when it has any official status there, or
# when at least this share of the population speaks it (CLDR territory data).
SPOKEN_SHARE_PERCENT = 10.0
_MAX_TAGS = 12


@lru_cache(maxsize=512)
def spoken_in(country: str) -> frozenset[str]:
    """Primary language subtags spoken in a country; empty for an unknown country."""
    territory = get_global("territory_languages").get(country.upper(), {})
    return frozenset(
        code.split("_")[0].lower()
        for code, facts in territory.items()
        if facts.get("official_status")
        or facts.get("population_percent", 0) >= SPOKEN_SHARE_PERCENT
    )


def preferred_languages(session: Session) -> list[str]:
    """The browser's languages as reported by the script, else from Accept-Language."""
    signals = session.signals
    if signals.languages:
        return _cleaned(signals.languages)
    if signals.language:
        return _cleaned([signals.language])
    header = session.accept_language or session.headers.get("accept-language")
    return list(_header_languages(header)) if header else []


def _cleaned(tags: list[str]) -> list[str]:
    return [tag.strip() for tag in tags if tag.strip() and tag.strip() != "*"][:_MAX_TAGS]


# Few distinct Accept-Language values make up nearly all traffic.
@lru_cache(maxsize=1024)
def _header_languages(header: str) -> tuple[str, ...]:
    return tuple(_cleaned(_accept_language(header)))


def _accept_language(header: str | None) -> list[str]:
    if not header:
        return []
    return [part.split(";")[0] for part in header.split(",")]


def primary_subtag(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].lower()


def languages_fit(tags: list[str], country: str | None) -> bool | None:
    """True when one of the languages is spoken in the country; None when unknown."""
    if not tags or not country:
        return None
    return _fit(tuple(tags), country)


@lru_cache(maxsize=1024)  # (languages, country): pure, and few pairs recur all day
def _fit(tags: tuple[str, ...], country: str) -> bool | None:
    spoken = spoken_in(country)
    if not spoken:
        return None
    return any(primary_subtag(tag) in spoken for tag in tags)
