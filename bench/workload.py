"""The measured workloads: API intake of referrals and the coordinator's case list, through the real HTTP stack.

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
from sqlalchemy import event, func, select

from app import tokens
from app.extensions import db
from app.models import Case, User
from app.timeutil import utcnow
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
            if subject is None or subject.match_index in victims:
                continue
            victims[subject.match_index] = Victim(subject.forename, subject.surname, subject.date_of_birth,
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
    """POST every body to /api/v1/referrals; every answer must be 201 and every deliberate repeat found."""
    client, bearer = app.test_client(), bearer_tokens(app)
    seconds: list[float] = []
    repeats_expected = repeats_found = other_repeats = 0
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
        found = response.get_json()["is_repeat"]
        if is_repeat and not found:
            raise BenchFailure(f"referral {i} re-refers a seeded victim but was not detected as a repeat")
        if i >= warmup:
            seconds.append(elapsed)
            repeats_expected += is_repeat
            repeats_found += is_repeat and found
            other_repeats += found and not is_repeat
    wall = time.perf_counter() - started
    return {"referrals": len(seconds), "warmup": warmup, "seconds": round(wall, 2),
            "per_second": round(len(seconds) / wall, 1),
            "latency": asdict(Latency.of(seconds, counter.count - queries_before)),
            "repeats_sent": repeats_expected, "repeats_detected": repeats_found,
            "other_detected_as_repeat": other_repeats}


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
