"""TEMPORARY primary-only stand-in until the sdc branch lands (never committed)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

TOTAL = "__total__"


@dataclass(frozen=True)
class CountTable:
    rows: tuple
    columns: tuple
    values: Mapping
    nested: Mapping = field(default_factory=dict)
    k: Mapping = field(default_factory=dict)
    exempt: frozenset = frozenset()


def suppress(table):
    return frozenset(cell for cell, v in table.values.items()
                     if cell[1] not in table.exempt and 1 <= v < table.k.get(cell[1], 5))
