"""The analyst's pages: each panel's measures with charts and tables, downloads, and the board report."""
from __future__ import annotations

import json
from datetime import date, timedelta

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from app.core.access import policy
from app.core.extensions import db
from app.core.timeutil import today
from app.measures import charts
from app.measures.compute import BREAKDOWNS, Results, answer, measure_sets
from app.measures.periods import InvalidQuery, Period, half_year, presets
from app.web.downloads import csv_download

bp = Blueprint("measures", __name__, url_prefix="/measures")

#: What a withheld figure shows, and the note that explains it.
WITHHELD = "[c]"


@bp.get("/")
@policy("measures")
def index():
    """Send the analyst to the first panel's measures."""
    first = next(iter(measure_sets()), None)
    if first is None:
        abort(404)
    return redirect(url_for("measures.panel", panel=first))


@bp.get("/<panel>")
@policy("measures")
def panel(panel: str):
    """Show a panel's measures for a period, as charts and as a table, with the filters and downloads."""
    if panel not in measure_sets():
        abort(404)
    args, errors = _query_from_form(request.args)
    results = None
    if not errors:
        try:
            results = answer(panel, args, today())
        except InvalidQuery as exc:
            errors = exc.errors
    db.session.commit()
    return render_template("measures/panel.html", results=results, errors=errors, args=args,
                           measure_set=measure_sets()[panel], sets=measure_sets(), breakdowns=BREAKDOWNS,
                           presets=presets(today()), charts=charts, withheld=WITHHELD), 422 if errors else 200


@bp.get("/<panel>.csv")
@policy("measures")
def download_csv(panel: str):
    """Download the figures shown on the page as a spreadsheet (withheld figures as [c])."""
    results = _answer_or_422(panel)
    rows = [["All", *_csv_cells(f)] for f in results.figures]
    rows += [[g.label, *_csv_cells(f)] for g in results.groups for f in g.figures]
    response = csv_download(f"{results.measure_set.panel}-measures",
                            ["Group", "Measure", "Title", "Value", "Withheld", "From", "To", "Definition"],
                            [row[:5] + [results.period.start, results.period.end, row[5]] for row in rows])
    db.session.commit()
    return response


@bp.get("/<panel>.json")
@policy("measures")
def download_json(panel: str):
    """Download the figures as JSON, exactly as the API gives them."""
    results = _answer_or_422(panel)
    db.session.commit()
    response = Response(json.dumps(results.as_dict(), indent=2), content_type="application/json")
    response.headers["Content-Disposition"] = (f'attachment; filename="{results.measure_set.panel}-measures-'
                                               f'{today().isoformat()}.json"')
    return response


@bp.get("/report")
@policy("measures")
def report():
    """The six-monthly board report: every panel's measures for the half-year, with short definitions, to print."""
    args, errors = _query_from_form(request.args)
    default = half_year(half_year(today()).start - timedelta(days=1))  # the last complete half-year
    sections, period = [], default
    if not errors:
        try:
            for key in measure_sets():
                results = answer(key, {**args, "from": args.get("from") or default.start.isoformat(),
                                       "to": args.get("to") or default.end.isoformat()}, today())
                sections.append(results)
                period = results.period
        except InvalidQuery as exc:
            errors, sections = exc.errors, []
    db.session.commit()
    earlier, halves = default, []
    for _ in range(4):
        halves.append((earlier.label, url_for("measures.report", **{"from": earlier.start.isoformat(),
                                                                    "to": earlier.end.isoformat()})))
        earlier = half_year(earlier.start - timedelta(days=1))
    return render_template("measures/report.html", sections=sections, period=period, errors=errors, halves=halves,
                           today=today(), withheld=WITHHELD), 422 if errors else 200


def _answer_or_422(panel: str) -> Results:
    args, errors = _query_from_form(request.args)
    try:
        if errors:
            raise InvalidQuery(errors)
        return answer(panel, args, today())
    except InvalidQuery as exc:
        abort(422, "; ".join(exc.errors.values()))


def _csv_cells(figure) -> list:
    m = figure.measure
    return [m.key, m.title, "" if figure.value is None and not figure.suppressed else
            (WITHHELD if figure.suppressed else figure.value), "yes" if figure.suppressed else "no", m.definition]


def _query_from_form(form) -> tuple[dict, dict[str, str]]:
    """Read the filters: ISO from/to (links and the API's spelling), or the page's day/month/year fields, and by."""
    args = {key: form.get(key) or None for key in ("by", "from", "to")}  # a box left empty asks for the default
    errors = {}
    for end in ("from", "to"):
        parts = [form.get(f"{end}-{p}", "").strip() for p in ("day", "month", "year")]
        if any(parts):
            try:
                args[end] = date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
            except ValueError:
                errors[end] = f"The {end} date must be a real date, for example 1 4 2026"
    return args, errors


def period_links(panel: str, by: str | None, choices: list[tuple[str, Period]]) -> list[tuple[str, str]]:
    """Links to the preset periods for a panel's page, keeping the breakdown."""
    return [(label, url_for("measures.panel", panel=panel, by=by or None, **{"from": p.start.isoformat(),
                                                                            "to": p.end.isoformat()}))
            for label, p in choices]


def breakdown_items(measure_set, chosen: str | None) -> list[dict]:
    """The radios for the breakdowns this panel allows."""
    return [{"value": key, "text": BREAKDOWNS[key], "checked": key == chosen} for key in measure_set.breakdowns]


def init_app(app) -> None:
    app.register_blueprint(bp)
    for helper in (period_links, breakdown_items):
        app.add_template_global(helper)
    app.add_template_filter(charts.display, "figure")
    app.add_template_global(charts.group_name)
