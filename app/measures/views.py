"""The analyst's pages: each panel's measures with charts and tables, downloads, and the board report."""
from __future__ import annotations

import json
from datetime import date, timedelta

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for

from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db
from app.core.timeutil import today
from app.measures import charts
from app.measures.access import MeasuresThrottled, readable, require, throttle
from app.measures.compute import BREAKDOWNS, Results, answer, measure_sets
from app.measures.periods import GRAINS, InvalidQuery, Period, half_year, presets
from app.web.downloads import csv_download
from app.web.errors import respond

bp = Blueprint("measures", __name__, url_prefix="/measures")

#: What a withheld figure shows, and the note that explains it.
WITHHELD = "[c]"


@bp.get("/")
@policy("measures")
def index():
    """Send the person to the first panel's measures they may read."""
    first = next(iter(readable(actor(), measure_sets())), None)
    if first is None:
        abort(404)
    return redirect(url_for("measures.panel", panel=first))


@bp.get("/<panel>")
@policy("measures")
def panel(panel: str):
    """Show a panel's measures for a period, as charts and as a table, with the filters and downloads."""
    throttle(actor())
    if panel not in measure_sets():
        abort(404)
    require(actor(), panel)
    args, errors = _query_from_form(request.args)
    results = None
    if not errors:
        try:
            results = answer(panel, args, today())
        except InvalidQuery as exc:
            errors = exc.errors
    db.session.commit()
    return render_template("measures/panel.html", results=results, errors=errors, args=args,
                           measure_set=measure_sets()[panel], sets=readable(actor(), measure_sets()),
                           breakdowns=BREAKDOWNS, presets=presets(today()), charts=charts,
                           withheld=WITHHELD), 422 if errors else 200


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
    throttle(actor())
    default = half_year(half_year(today()).start - timedelta(days=1))  # the last complete half-year
    sections, period = [], default
    if not errors:
        try:
            for key in readable(actor(), measure_sets()):
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
    throttle(actor())
    if panel not in measure_sets():
        abort(404)
    require(actor(), panel)
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
    # A box left empty asks for the default.
    args = {key: form.get(key) or None for key in ("by", "from", "to", "grain")}
    errors = {}
    for end in ("from", "to"):
        parts = [form.get(f"{end}-{p}", "").strip() for p in ("day", "month", "year")]
        if any(parts):
            try:
                args[end] = date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
            except ValueError:
                errors[end] = f"The {end} date must be a real date, for example 1 4 2026"
    return args, errors


def period_links(panel: str, by: str | None, choices: list[tuple[str, Period, str]]) -> list[tuple[str, str]]:
    """Links to the preset periods for a panel's page, keeping the breakdown."""
    return [(label, url_for("measures.panel", panel=panel, by=by or None, grain=grain,
                            **{"from": p.start.isoformat(), "to": p.end.isoformat()}))
            for label, p, grain in choices]


def throttled(exc: MeasuresThrottled):
    """Too many reads of measures: 429 with Retry-After, audited (the same answer for pages and the API)."""
    db.session.rollback()
    audit.record("measures.throttled", user=exc.user)
    db.session.commit()
    response = make_response(respond(429, f"Too many requests for measures. Wait {exc.wait_seconds} seconds, "
                                          "then try again."))
    response.headers["Retry-After"] = str(exc.wait_seconds)
    return response


def breakdown_items(measure_set, chosen: str | None) -> list[dict]:
    """The radios for the breakdowns this panel allows."""
    return [{"value": key, "text": BREAKDOWNS[key], "checked": key == chosen} for key in measure_set.breakdowns]


def grain_items(chosen: str | None) -> list[dict]:
    """The radios for the grains a period is made of."""
    names = {"month": "Months", "quarter": "Quarters", "year": "Financial years"}
    return [{"value": key, "text": names[key], "checked": key == (chosen or "month")} for key in GRAINS]


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(MeasuresThrottled, throttled)
    for helper in (period_links, breakdown_items, grain_items):
        app.add_template_global(helper)
    app.add_template_filter(charts.display, "figure")
    app.add_template_global(charts.group_name)
