"""Run the benchmarks: seed N synthetic MARAC cases, then time API intake, the case list and the measures API.

    python -m bench.run [--cases 100000] [--years 3] [--intake 2000] [--requests 200] [--measures 20]
                        [--database-url URL] [--keep]

Without --database-url (or BENCH_DATABASE_URL) it works on a fresh SQLite file in a temporary directory.
A database that already holds the benchmark partnership is reused as it is (no seeding).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, make_url, select

from app import create_app
from app.admin.maintenance import refresh_statistics
from app.core.extensions import db
from app.core.models import Case
from app.core.timeutil import utcnow
from bench import meetings, seed, workload

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"intake_per_second": 150.0, "case_list_p95_ms": 50.0,
           # the measures API's median within this many times the hand-written query's, and its 95th percentile
           # under this for ten years
           "measures_ratio": 1.5, "measures_ten_years_p95_ms": 300.0,
           # issue 6: with 100,000 cases and 5,000 open actions
           "agenda_proposal_p95_ms": 100.0, "sweep_seconds": 2.0}


def bench_key(label: str) -> str:
    """A fixed key for synthetic benchmark data only, so a kept database can be reused by a later run."""
    return base64.b64encode(hashlib.sha256(f"panel-bench:{label}".encode()).digest()).decode()


def bench_config(database_url: str) -> dict:
    """The app's configuration for benchmarking (like the tests': cheap Argon2, errors raised, not rendered)."""
    return {
        "SECRET_KEY": bench_key("secret"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATA_KEYS": "bench1:" + bench_key("data"),
        "DATA_KEY_PRIMARY": None,
        "BLIND_INDEX_KEY": bench_key("blind-index"),
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "PROPAGATE_EXCEPTIONS": True,
        "ENV_NAME": "development",  # synthetic data on a developer's machine, over plain HTTP
        "MEASURES_THROTTLE_LIMIT": 1_000_000,  # the benchmark times the measures API many times a minute on purpose
        "API_TOKEN_REQUESTS_PER_MINUTE": 10_000,  # the setting's maximum: each token still pays for its count
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line (see bench/README.md)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="synthetic MARAC cases to seed (100000)")
    parser.add_argument("--years", type=int, default=3,
                        help="years over which the seeded cases were referred, with weekly meetings throughout (3)")
    parser.add_argument("--intake", type=int, default=2000, help="referrals to post to the API (2000; 0 skips)")
    parser.add_argument("--requests", type=int, default=200, help="GETs of each case-list URL (200; 0 skips)")
    parser.add_argument("--case-pages", type=int, default=50, help="random case pages to open (50; 0 skips)")
    parser.add_argument("--measures", type=int, default=20,
                        help="timed GETs of the MARAC measures API, and runs of the hand-written query, for each "
                             "period (20; 0 skips)")
    parser.add_argument("--meetings", type=int, default=50,
                        help="timed agenda proposals, agenda pages and dashboards, then two scheduler sweeps (50; 0 "
                             "skips)")
    parser.add_argument("--open-actions", type=int, default=5000,
                        help="open actions to have before the meetings workload, reopening settled ones (5000)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="database to use (default: BENCH_DATABASE_URL, else a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the synthetic data (2026)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite database for reuse")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark, print a summary and write the figures to bench/results/."""
    args = parse_args(argv)
    scratch = None if args.database_url else Path(tempfile.mkdtemp(prefix="panel-bench-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    try:
        results = run(args, url)
    finally:
        if scratch and not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        elif scratch:
            print(f"Kept the database: --database-url sqlite:///{scratch / 'bench.db'}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{results['database']['backend']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(summary(results))
    print(f"Figures written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


def run(args: argparse.Namespace, url: str) -> dict:
    """Build the schema, seed (unless already seeded) and run the workloads."""
    app = create_app(bench_config(url))
    backend = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    say(f"Database: {make_url(url).render_as_string(hide_password=True)}")
    started = time.perf_counter()
    with app.app_context():
        upgrade()  # the migrations production runs (their env.py logs each step at INFO)
        migrated = time.perf_counter() - started
        if seed.is_seeded():
            report = seed.SeedReport(0.0, db.session.scalar(select(func.count(Case.id))), {}, {}, 0, reused=True)
            say(f"Reusing the {report.cases:,} cases already in the database")
        else:
            say(f"Seeding {args.cases:,} synthetic MARAC cases over {args.years} years ...")
            report = seed.seed(args.cases, years=args.years, seed_value=args.seed, progress=say)
            say(f"  seeded in {report.seconds:.1f} s")
        # What the scheduler does at start and every few hours in production (on SQLite; PostgreSQL analyses itself).
        say(f"Planner statistics: {refresh_statistics()}")
        first, last = db.session.execute(select(func.min(Case.referred_on), func.max(Case.referred_on))).one()
        db.session.remove()
    results: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_average_at_start": round(os.getloadavg()[0], 2)},
        "app_commit": _commit(),
        "database": {"backend": backend, "url": make_url(url).render_as_string(hide_password=True)},
        "targets": TARGETS,
        "migrate_seconds": round(migrated, 2),
        "seed": {"seconds": round(report.seconds, 1), "cases": report.cases, "reused": report.reused,
                 "repeats": report.repeats, "states": report.states, "rows": report.rows,
                 "referred_from": first and first.isoformat(), "referred_to": last and last.isoformat()},
    }
    counter = workload.QueryCounter(app)
    if args.intake:
        say(f"Posting {args.intake:,} referrals to /api/v1/referrals ...")
        warmup = min(20, max(0, args.intake // 10))
        victims = workload.seeded_victims(app, max(1, args.intake // 5), args.seed)
        bodies = workload.referral_bodies(args.intake + warmup, victims, args.seed + 1)
        results["intake"] = workload.run_intake(app, bodies, warmup, counter)
        say(f"  {results['intake']['per_second']} referrals/s")
    coordinator = (workload.signed_in_coordinator(app) if args.requests or args.case_pages or args.meetings
                   else None)
    if args.requests:
        say(f"Getting each case-list page {args.requests} times ...")
        results["case_list"] = workload.run_case_list(app, coordinator, args.requests, counter)
    if args.case_pages:
        say(f"Opening {args.case_pages} random case pages ...")
        results["case_page"] = workload.run_case_pages(app, coordinator, args.case_pages, counter, args.seed)
    if args.measures:
        say(f"Getting the MARAC measures for a year and for ten years {args.measures} times each, and running the "
            "hand-written query as often ...")
        results["measures"] = workload.run_measures(app, args.measures, counter, utcnow().date())
    if args.meetings:
        say(f"Proposing an agenda, opening it and the dashboard {args.meetings} times each, then two sweeps ...")
        results["meetings"] = meetings.run_meetings(app, coordinator, args.meetings, counter, args.open_actions)
    with app.app_context():
        db.engine.dispose()
    results["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return results


def _commit() -> str | None:
    """The app's git commit, with "+changes" when the work tree differs from it (figures belong to code)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True)  # read-only: never refreshes the index
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def say(message: str) -> None:
    """Print progress at once (Alembic and the app log to stderr in between)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def summary(results: dict) -> str:
    """A plain-text summary of the figures and whether each target is met."""
    seed_info, db_info = results["seed"], results["database"]
    machine = results["machine"]
    lines = [f"\nBenchmark of {results['app_commit']} on {db_info['backend']} ({machine['platform']}, Python "
             f"{machine['python']}, {machine['cpus']} CPUs, load average {machine['load_average_at_start']} at start, "
             f"{machine['load_average_at_end']} at end)",
             f"  cases in database   {seed_info['cases']:,}" + (
                 " (reused)" if seed_info["reused"] else f", seeded in {seed_info['seconds']:.1f} s")]
    if "intake" in results:
        intake, lat = results["intake"], results["intake"]["latency"]
        met = "met" if intake["per_second"] >= TARGETS["intake_per_second"] else "MISSED"
        lines.append(f"  API intake          {intake['per_second']:.1f} referrals/s over {intake['referrals']:,} "
                     f"(target >= {TARGETS['intake_per_second']:.0f}/s: {met}); median {lat['median_ms']:.1f} ms, "
                     f"p95 {lat['p95_ms']:.1f} ms, {lat['queries_per_request']} SQL statements each; "
                     f"repeats detected {intake['repeats_detected']}/{intake['repeats_sent']}")
    for url, lat in results.get("case_list", {}).items():
        met = "met" if lat["p95_ms"] < TARGETS["case_list_p95_ms"] else "MISSED"
        lines.append(f"  GET {url:<31} median {lat['median_ms']:6.1f} ms, p95 {lat['p95_ms']:6.1f} ms "
                     f"(target p95 < {TARGETS['case_list_p95_ms']:.0f} ms: {met}); {lat['queries_per_request']} "
                     f"statements; {lat['cases_in_list']:,} cases listed")
    if "case_page" in results:
        lat = results["case_page"]
        lines.append(f"  GET /cases/<id> ({lat['requests']} random)       median {lat['median_ms']:6.1f} ms, "
                     f"p95 {lat['p95_ms']:6.1f} ms; {lat['queries_per_request']} statements (no target)")
    for period, figures in results.get("measures", {}).items():
        api, hand = figures["api"], figures["hand_query"]
        met = "met" if figures["ratio_median"] <= TARGETS["measures_ratio"] else "MISSED"
        line = (f"  GET measures {period:<9} ({figures['from']} to {figures['to']}, "
                f"{figures['values']['referrals']:,} referrals) median {api['median_ms']:6.1f} ms, "
                f"p95 {api['p95_ms']:6.1f} ms, {api['queries_per_request']} statements; hand-written query median "
                f"{hand['median_ms']:6.1f} ms, p95 {hand['p95_ms']:6.1f} ms; API/hand {figures['ratio_median']:.2f} "
                f"(target <= {TARGETS['measures_ratio']}: {met})")
        if period == "ten_years":
            line += (f"; p95 target < {TARGETS['measures_ten_years_p95_ms']:.0f} ms: "
                     + ("met" if api["p95_ms"] < TARGETS["measures_ten_years_p95_ms"] else "MISSED"))
        lines.append(line)
    if "meetings" in results:
        m, lat = results["meetings"], results["meetings"]["proposals"]
        met = "met" if lat["p95_ms"] < TARGETS["agenda_proposal_p95_ms"] else "MISSED"
        lines.append(f"  agenda proposal     median {lat['median_ms']:6.1f} ms, p95 {lat['p95_ms']:6.1f} ms "
                     f"(target < {TARGETS['agenda_proposal_p95_ms']:.0f} ms: {met}); {m['proposed_by_cutoff']} cases "
                     f"proposed, {m['proposed_after_cutoff']} after the cut-off; {lat['queries_per_request']} "
                     "statements")
        for url, page in m["pages"].items():
            lines.append(f"  GET {url:<31} median {page['median_ms']:6.1f} ms, p95 {page['p95_ms']:6.1f} ms; "
                         f"{page['queries_per_request']} statements (no target)")
        for label, sweep in m["sweep"].items():
            met = "met" if sweep["seconds"] < TARGETS["sweep_seconds"] else "MISSED"
            jobs = "; ".join(f"{job} {v['seconds']:.2f} s ({v['outcome']})" for job, v in sweep.items()
                             if isinstance(v, dict))
            lines.append(f"  sweep ({label:<5})       {sweep['seconds']:.2f} s with {m['open_actions']:,} open "
                         f"actions, {m['overdue_actions']:,} overdue (target < {TARGETS['sweep_seconds']:.0f} s: "
                         f"{met}): {jobs}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
