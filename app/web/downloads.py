"""CSV downloads: the one place that writes spreadsheets, with formula cells neutralised (OWASP CSV injection)."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response

from app.core.timeutil import today

#: A cell starting with one of these, or with one of the first four after leading whitespace, is read as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Download names are fixed words chosen by the view (never data), so a file name can carry no personal data.
NAME = re.compile(r"[a-z]+(-[a-z]+)*")


def neutralise(value) -> str:
    """Return the cell as text, behind a single quote if a spreadsheet would otherwise run it as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def csv_download(name: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """Build an attachment response of header and rows: UTF-8 with a BOM (for Excel), never cached.

    The csv module quotes cells holding separators, quotes or line breaks; every cell goes through neutralise().
    """
    if not NAME.fullmatch(name):
        raise ValueError(f"not a download name: {name!r}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    response = Response(("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{today().isoformat()}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
