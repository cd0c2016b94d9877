"""The measured workloads: API intake of referrals, the coordinator's case list and the analyst's outcome measures
(against the same figures from a hand-written SQL query), through the real HTTP stack.

Requests go through ``app.test_client()`` with no application context held open around them, so each request
gets its own app context and database session, as under gunicorn. Bodies are built before the clock starts.
"""
from __future__ import annotations

import math
import random
import re
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import pyotp
from faker import Faker
from flask import Flask
from sqlalchemy import event, func, select, text

from app.auth import tokens
from app.auth.passwords import hash_password
from app.core.extensions import db
from app.core.models import Agency, Case, User
from app.core.timeutil import add_months, utcnow
from bench.seed import COORDINATOR_EMAIL, DOMAIN, NEIGHBOURHOODS, PASSWORD
from panels.marac import dash


class BenchFailure(RuntimeError):
    """A request did not get the answer the benchmark needs; the figures would be meaningless."""


@dataclass
class Latency:
    """Latency figures of one kind of request, in milliseconds."""

    requests: int
    median_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    queries_per_request: float

    @classmethod
    def of(cls, seconds: list[float], queries: int) -> Latency:
        """Summarise request durations (in seconds) and the SQL statements they sent."""
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[math.ceil(0.95 * len(ms)) - 1]  # nearest rank
        return cls(len(ms), round(statistics.median(ms), 2), round(p95, 2), round(statistics.fmean(ms), 2),
                   round(ms[-1], 2), round(queries / len(ms), 1))


class QueryCounter:
    """Count the SQL statements the app sends (to explain where request time goes)."""

    def __init__(self, app: Flask):
        self.count = 0
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


# --- intake --------------------------------------------------------------------------------------------

@dataclass
class Victim:
    """A seeded victim to refer again (the repeat check must find them)."""

    forename: str
    surname: str
    date_of_birth: str
    last_on: date


def seeded_victims(app: Flask, count: int, seed_value: int) -> list[Victim]:
    """Pick distinct seeded victims referred 10 to 300 days ago, reading their names through the app's models."""
    today = utcnow().date()
    victims: dict[str, Victim] = {}
    with app.app_context():
        rng = random.Random(seed_value)
        low, high = db.session.execute(select(func.min(Case.id), func.max(Case.id)).where(
            Case.referred_on.between(today - timedelta(days=300), today - timedelta(days=10)))).one()
        if low is None:
            return []
        for case_id in rng.sample(range(low, high + 1), min(high - low + 1, count * 3)):
            case = db.session.get(Case, case_id)
            subject = case.subject if case is not None else None
            if subject is None or subject.repeat_index in victims:
                continue
            victims[subject.repeat_index] = Victim(subject.forename, subject.surname, subject.date_of_birth,
                                                  case.referred_on)
            if len(victims) == count:
                break
        db.session.remove()
    return list(victims.values())


def referral_bodies(n: int, victims: list[Victim], seed_value: int) -> list[tuple[dict, bool]]:
    """Build n varied referral bodies; the second item says whether it re-refers a seeded victim."""
    rng, fake = random.Random(seed_value), Faker("en_GB")
    fake.seed_instance(seed_value)
    today = utcnow().date()
    repeat_at = set(rng.sample(range(n), min(len(victims), n)))
    pool = iter(victims)
    bodies = []
    for i in range(n):
        referred_on = today - timedelta(days=rng.randint(0, 3))
        if i in repeat_at:
            v = next(pool)
            subject = {"forename": v.forename, "surname": v.surname, "date_of_birth": v.date_of_birth}
        else:
            subject = {"forename": fake.first_name_female(), "surname": fake.last_name(),
                       "date_of_birth": fake.date_of_birth(minimum_age=18, maximum_age=75).isoformat()}
        subject["address"] = fake.address().replace("\n", ", ")
        route = rng.choice(("visible_high_risk", "visible_high_risk", "professional_judgement",
                            "potential_escalation"))
        yes = rng.randint(14, 22) if route == "visible_high_risk" else rng.randint(3, 13)
        yes_keys = set(rng.sample(dash.KEYS, yes))
        details: dict = {
            "dash": {k: "yes" if k in yes_keys else rng.choice(("no", "no", "unknown")) for k in dash.KEYS},
            "routes": [route], "children_in_household": rng.randint(0, 3), "neighbourhood": rng.choice(NEIGHBOURHOODS),
            "safe_contact": f"Mobile {fake.phone_number()}, weekdays before 3pm only",
            "incidents_last_12_months": rng.randint(3, 9) if route == "potential_escalation" else rng.randint(0, 2),
        }
        if route == "professional_judgement":
            details["professional_judgement_reasons"] = fake.paragraph(nb_sentences=3)
        if rng.random() < 0.85:
            details["perpetrator"] = {"forename": fake.first_name_male(), "surname": fake.last_name(),
                                      "date_of_birth": fake.date_of_birth(minimum_age=18, maximum_age=70).isoformat()}
        bodies.append(({"panel": "marac", "referred_on": referred_on.isoformat(), "subject": subject,
                        "details": details}, i in repeat_at))
    return bodies


def bearer_tokens(app: Flask) -> list[str]:
    """Issue an API token to every benchmark practitioner."""
    with app.app_context():
        users = db.session.scalars(select(User).where(User.role == "practitioner",
                                                      User.email.like(f"%@{DOMAIN}")).order_by(User.id)).all()
        issued = [tokens.issue(u) for u in users]
        db.session.commit()
        db.session.remove()
    return issued


def run_intake(app: Flask, bodies: list[tuple[dict, bool]], warmup: int, counter: QueryCounter) -> dict:
    """POST every body to /api/v1/referrals; every answer must be 201 and every deliberate repeat found (read from
    the database afterwards: the referrer is not told whether a referral repeats an earlier one)."""
    client, bearer = app.test_client(), bearer_tokens(app)
    seconds: list[float] = []
    made: list[tuple[int, bool]] = []
    queries_before = 0
    started = 0.0
    for i, (body, is_repeat) in enumerate(bodies):
        if i == warmup:
            queries_before, started = counter.count, time.perf_counter()
        headers = {"Authorization": f"Bearer {bearer[i % len(bearer)]}"}
        began = time.perf_counter()
        response = client.post("/api/v1/referrals", json=body, headers=headers)
        elapsed = time.perf_counter() - began
        if response.status_code != 201:
            raise BenchFailure(f"referral {i} got {response.status_code}: {response.get_data(as_text=True)[:500]}")
        if i >= warmup:
            seconds.append(elapsed)
            made.append((response.get_json()["id"], is_repeat))
    wall = time.perf_counter() - started
    statements = counter.count - queries_before
    with app.app_context():
        flagged = dict(db.session.execute(select(Case.id, Case.is_repeat).where(
            Case.id.in_([case_id for case_id, _ in made]))).all())
        db.session.remove()
    missed = [case_id for case_id, is_repeat in made if is_repeat and not flagged[case_id]]
    if missed:
        raise BenchFailure(f"{len(missed)} referrals re-refer a seeded victim but were not detected as repeats")
    return {"referrals": len(seconds), "warmup": warmup, "seconds": round(wall, 2),
            "per_second": round(len(seconds) / wall, 1),
            "latency": asdict(Latency.of(seconds, statements)),
            "repeats_sent": sum(is_repeat for _, is_repeat in made),
            "repeats_detected": sum(is_repeat and flagged[case_id] for case_id, is_repeat in made),
            "other_detected_as_repeat": sum(flagged[case_id] and not is_repeat for case_id, is_repeat in made)}


# --- case list -----------------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
TOTAL = re.compile(r"(\d+) cases?</caption>")


def signed_in_coordinator(app: Flask):
    """A test client signed in as the marac coordinator through the real sign-in forms (password, then code)."""
    client = app.test_client()
    with app.app_context():
        secret = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL)).totp_secret
    steps = (("/sign-in", {"email": COORDINATOR_EMAIL, "password": PASSWORD}),
             ("/sign-in/code", {"code": pyotp.TOTP(secret).now()}))
    for path, form in steps:
        page = client.get(path)
        match = CSRF.search(page.get_data(as_text=True))
        if page.status_code != 200 or not match:
            raise BenchFailure(f"no CSRF token on {path}")
        response = client.post(path, data={**form, "csrf_token": match.group(1)})
        if response.status_code != 302:
            raise BenchFailure(f"coordinator sign-in at {path} got {response.status_code}")
    return client


def time_pages(client, counter: QueryCounter, urls: list[str], repeat: int, warmup: int = 5) -> dict[str, dict]:
    """GET each URL ``repeat`` times after a warm-up; every answer must be 200."""
    results = {}
    for url in urls:
        seconds: list[float] = []
        shown = None
        queries_before = counter.count
        for i in range(warmup + repeat):
            if i == warmup:
                queries_before = counter.count
            began = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - began
            if response.status_code != 200:
                raise BenchFailure(f"GET {url} got {response.status_code}")
            if i >= warmup:
                seconds.append(elapsed)
            if shown is None and (found := TOTAL.search(response.get_data(as_text=True))):
                shown = int(found.group(1))
        results[url] = {**asdict(Latency.of(seconds, counter.count - queries_before)), "cases_in_list": shown}
    return results


def list_urls(client, size: int) -> list[str]:
    """The coordinator's lists: open and all cases, page 1, page 50 (or the last) and the very last page of all."""
    def pages(query: str) -> int:
        found = TOTAL.search(client.get(f"/cases?{query}").get_data(as_text=True))
        return max(1, -(-int(found.group(1)) // size)) if found else 1
    open_pages, all_pages = pages("status=open"), pages("status=all")
    urls = ["/cases", f"/cases?page={min(50, open_pages)}", "/cases?status=all",
            f"/cases?status=all&page={min(50, all_pages)}", f"/cases?status=all&page={all_pages}"]
    return list(dict.fromkeys(urls))


def run_case_list(app: Flask, client, repeat: int, counter: QueryCounter) -> dict[str, dict]:
    """Time the coordinator's case list pages; each must list cases."""
    results = time_pages(client, counter, list_urls(client, int(app.config["PAGE_SIZE"])), repeat)
    for url, figures in results.items():
        if figures["cases_in_list"] is None:
            raise BenchFailure(f"GET {url} showed no cases")
    return results


def run_case_pages(app: Flask, client, count: int, counter: QueryCounter, seed_value: int) -> dict:
    """Open ``count`` random seeded case pages (each must render: a check that the seeded data is coherent)."""
    with app.app_context():
        high = db.session.scalar(select(func.max(Case.id)))
        db.session.remove()
    rng = random.Random(seed_value)
    seconds: list[float] = []
    queries_before = counter.count
    for _ in range(count):
        case_id = rng.randint(1, high)
        began = time.perf_counter()
        response = client.get(f"/cases/{case_id}")
        seconds.append(time.perf_counter() - began)
        if response.status_code != 200 or f"MARAC-{case_id:06d}" not in response.get_data(as_text=True):
            raise BenchFailure(f"case page {case_id} got {response.status_code}")
    return asdict(Latency.of(seconds, counter.count - queries_before))


# --- outcome measures ----------------------------------------------------------------------------------

ANALYST_EMAIL = f"analyst@{DOMAIN}"
MEASURES_URL = "/api/v1/measures/marac"
#: The MARAC measures the benchmark checks, and the hand-written query's columns each rests on (suppression is
#: accepted only when one of those counts is small).
MEASURE_BASES = {
    "referrals": ("referrals",), "cases_discussed": ("cases_discussed",),
    "repeat_referrals": ("repeat_referrals",), "repeat_rate": ("repeat_referrals", "referrals"),
    "non_police_referrals": ("non_police_referrals",), "non_police_share": ("non_police_referrals", "referrals"),
    "cases_with_children": ("cases_with_children",), "children": ("cases_with_children",),
    "median_days_to_hearing": ("cases_discussed",), "median_days_to_closure": ("closed",),
}
#: Below this a count may be hidden by disclosure control (the app's threshold is 5; any larger one is a failure
#: at the sizes this benchmark seeds).
SMALL = 10
#: Shares and medians may be rounded to one decimal place by the API.
ROUNDING = 0.05 + 1e-9

#: The same figures as one hand-written statement, as an analyst would write it for PostgreSQL. Both medians'
#: counts are selected too, as the app needs them for disclosure control.
HAND_QUERY_POSTGRESQL = """
SELECT count(*) AS referrals,
       count(h.occurred_on) AS cases_discussed,
       count(*) FILTER (WHERE c.is_repeat) AS repeat_referrals,
       count(*) FILTER (WHERE a.kind <> 'police') AS non_police_referrals,
       count(*) FILTER (WHERE m.children_in_household > 0) AS cases_with_children,
       coalesce(sum(m.children_in_household), 0) AS children,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY h.occurred_on - c.referred_on) AS median_days_to_hearing,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.closed_on - c.referred_on)
           FILTER (WHERE c.state IN ('closed', 'expired')) AS median_days_to_closure,
       count(c.closed_on) FILTER (WHERE c.state IN ('closed', 'expired')) AS closed
FROM cases c
JOIN marac_referrals m ON m.id = c.id
JOIN agencies a ON a.id = c.source_agency_id
LEFT JOIN case_transitions h ON h.case_id = c.id AND h.to_state = 'heard'
WHERE c.panel = 'marac' AND c.state <> 'draft' AND c.referred_on BETWEEN :start AND :end
"""
#: SQLite has neither percentile_cont nor date subtraction: the median is the aggregate the app registers on each
#: SQLite connection, and days are julianday differences.
HAND_QUERY_SQLITE = """
SELECT count(*) AS referrals,
       count(h.occurred_on) AS cases_discussed,
       count(*) FILTER (WHERE c.is_repeat) AS repeat_referrals,
       count(*) FILTER (WHERE a.kind <> 'police') AS non_police_referrals,
       count(*) FILTER (WHERE m.children_in_household > 0) AS cases_with_children,
       coalesce(sum(m.children_in_household), 0) AS children,
       median(CAST(julianday(h.occurred_on) - julianday(c.referred_on) AS INTEGER)) AS median_days_to_hearing,
       median(CAST(julianday(c.closed_on) - julianday(c.referred_on) AS INTEGER))
           FILTER (WHERE c.state IN ('closed', 'expired')) AS median_days_to_closure,
       count(c.closed_on) FILTER (WHERE c.state IN ('closed', 'expired')) AS closed
FROM cases c
JOIN marac_referrals m ON m.id = c.id
JOIN agencies a ON a.id = c.source_agency_id
LEFT JOIN case_transitions h ON h.case_id = c.id AND h.to_state = 'heard'
WHERE c.panel = 'marac' AND c.state <> 'draft' AND c.referred_on BETWEEN :start AND :end
"""


def measure_periods(today: date) -> dict[str, tuple[date, date]]:
    """The periods timed: the last full calendar year, and the ten years of whole months up to the last complete
    month (both ends inclusive; the measures API answers whole months, quarters and financial years only)."""
    this_month = today.replace(day=1)
    return {"last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
            "ten_years": (add_months(this_month, -120), this_month - timedelta(days=1))}


def analyst_token(app: Flask) -> str:
    """An API token for the benchmark's analyst, who is added to the partnership the first time (also when reused)."""
    with app.app_context():
        analyst = db.session.scalar(select(User).where(User.email == ANALYST_EMAIL))
        if analyst is None:
            council = db.session.scalar(select(Agency).where(Agency.code == "COUNCIL"))
            analyst = User(email=ANALYST_EMAIL, display_name="Bench analyst", agency=council, role="analyst",
                           password_hash=hash_password(PASSWORD))
            analyst.totp_secret, analyst.totp_enrolled_at = pyotp.random_base32(), utcnow()
            db.session.add(analyst)
            db.session.flush()
        token = tokens.issue(analyst)
        db.session.commit()
        db.session.remove()
    return token


def hand_query(backend: str):
    """The hand-written statement for this database."""
    return text(HAND_QUERY_POSTGRESQL if backend == "postgresql" else HAND_QUERY_SQLITE)


def run_hand_query(app: Flask, start: date, end: date, repeat: int, warmup: int) -> tuple[dict, dict]:
    """Run the hand-written query on one connection of the app's engine; time execute and fetch. Return the
    latency figures and the row.

    On PostgreSQL every run is planned for its own dates, as in psql and as the app plans its measures: psycopg
    prepares a statement after a few runs, and the generic plan PostgreSQL may then keep suits a year, not ten.
    The setting is local to the one transaction all the runs share, so it never reaches the pool's other users.
    """
    with app.app_context():
        statement = hand_query(db.engine.dialect.name)
        params = {"start": start, "end": end}
        seconds: list[float] = []
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            for i in range(warmup + repeat):
                began = time.perf_counter()
                row = connection.execute(statement, params).one()
                elapsed = time.perf_counter() - began
                if i >= warmup:
                    seconds.append(elapsed)
        db.session.remove()
    return asdict(Latency.of(seconds, repeat)), dict(row._mapping)


def run_measures_api(app: Flask, bearer: str, start: date, end: date, repeat: int, warmup: int,
                     counter: QueryCounter) -> tuple[dict, dict]:
    """GET the MARAC measures for the period; every answer must be 200 with measures. Return the latency figures
    and the last answer's measures by key."""
    client = app.test_client()
    url = f"{MEASURES_URL}?from={start.isoformat()}&to={end.isoformat()}"
    headers = {"Authorization": f"Bearer {bearer}"}
    seconds: list[float] = []
    queries_before = counter.count
    body = None
    for i in range(warmup + repeat):
        if i == warmup:
            queries_before = counter.count
        began = time.perf_counter()
        response = client.get(url, headers=headers)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise BenchFailure(f"GET {url} got {response.status_code}: {response.get_data(as_text=True)[:500]}")
        if i >= warmup:
            seconds.append(elapsed)
        body = response.get_json()
    measures = (body or {}).get("measures")
    if not isinstance(measures, list):
        raise BenchFailure(f"GET {url} answered without a list of measures: {str(body)[:500]}")
    return asdict(Latency.of(seconds, counter.count - queries_before)), {m["key"]: m for m in measures}


def check_measures(period: str, api: dict[str, dict], hand: dict) -> dict:
    """Compare the API's figures with the hand-written query's; raise BenchFailure on any difference.

    Counts must be equal; shares (percent) and medians equal within the API's rounding to one decimal place. A
    figure may be suppressed only when a count it rests on, or that count's complement within the referrals,
    is small.
    """
    expected = {key: hand[key] for key in ("referrals", "cases_discussed", "repeat_referrals",
                                           "non_police_referrals", "cases_with_children", "children")}
    referrals = hand["referrals"]
    expected["repeat_rate"] = 100 * hand["repeat_referrals"] / referrals if referrals else None
    expected["non_police_share"] = 100 * hand["non_police_referrals"] / referrals if referrals else None
    for key in ("median_days_to_hearing", "median_days_to_closure"):
        expected[key] = None if hand[key] is None else float(hand[key])
    problems = []
    for key, want in expected.items():
        figure = api.get(key)
        if figure is None:
            problems.append(f"{key} is missing")
            continue
        got = figure.get("value")
        if figure.get("suppressed"):
            if not any(_small(hand, b) for b in MEASURE_BASES[key]):
                problems.append(f"{key} is suppressed, but the counts it rests on are not small")
            continue
        if want is None or got is None:
            if want is not got:
                problems.append(f"{key} is {got!r}, the hand-written query gives {want!r}")
        elif key in ("repeat_rate", "non_police_share") or key.startswith("median_"):
            if abs(float(got) - want) > ROUNDING:
                problems.append(f"{key} is {got!r}, the hand-written query gives {want:.3f}")
        elif got != want:
            problems.append(f"{key} is {got!r}, the hand-written query gives {want!r}")
    if problems:
        raise BenchFailure(f"measures for {period} differ from the hand-written query: " + "; ".join(problems))
    return {key: api[key]["value"] for key in expected}


def _small(hand: dict, key: str) -> bool:
    """Whether disclosure control may hide this count: it is small, or all but a few of the referrals."""
    if key in ("referrals", "closed"):
        return hand[key] < SMALL
    return min(hand[key], hand["referrals"] - hand[key]) < SMALL


def run_measures(app: Flask, repeat: int, counter: QueryCounter, today: date, warmup: int = 3) -> dict:
    """Time the measures API and the hand-written query for each period, and check they agree."""
    bearer = analyst_token(app)
    results = {}
    for period, (start, end) in measure_periods(today).items():
        api_latency, api = run_measures_api(app, bearer, start, end, repeat, warmup, counter)
        hand_latency, hand = run_hand_query(app, start, end, repeat, warmup)
        values = check_measures(period, api, hand)
        results[period] = {
            "from": start.isoformat(), "to": end.isoformat(), "api": api_latency, "hand_query": hand_latency,
            "ratio_median": round(api_latency["median_ms"] / hand_latency["median_ms"], 2),
            "ratio_p95": round(api_latency["p95_ms"] / hand_latency["p95_ms"], 2),
            "values": values, "other_measures": sorted(set(api) - set(values)),
            "hand_query_row": {k: (float(v) if v is not None and not isinstance(v, int) else v)
                               for k, v in hand.items()}}
    return results
