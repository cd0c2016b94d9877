"""Parts of a case that other features own (meetings: the meeting it is listed on; actions: the actions agreed).

A feature registers its section from its init_app; the case page and the API's case show every section without the
cases package importing the feature.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CaseSection:
    key: str
    #: Its part of the API's case, as the user may see it: (user, case) -> JSON.
    describe: Callable[[Any, Any], Any]
    #: Rows it adds to the case page's summary: (user, case) -> [(label, text)].
    summary: Callable[[Any, Any], list[tuple[str, str]]] | None = None
    #: A template of its own on the case page, given ``section`` = page(user, case).
    template: str = ""
    page: Callable[[Any, Any], Any] | None = None
    #: Where it comes among the sections.
    order: int = 50


_sections: dict[str, CaseSection] = {}


def register(section: CaseSection) -> None:
    """Add a section (idempotent: the same key again replaces it)."""
    _sections[section.key] = section


def sections() -> list[CaseSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def summary_rows(user, case) -> list[tuple[str, str]]:
    return [row for s in sections() if s.summary for row in s.summary(user, case)]


def pages(user, case) -> list[tuple[CaseSection, Any]]:
    """The sections with a template, each with what it shows."""
    return [(s, s.page(user, case) if s.page else None) for s in sections() if s.template]


def described(user, case) -> dict[str, Any]:
    return {s.key: s.describe(user, case) for s in sections()}
