"""Measure server time per request at real size, and write bench/RESULTS.md.

    .venv/bin/python bench/run.py                  # both data sets (generated when missing)
    .venv/bin/python bench/run.py --requests 50    # quicker, noisier
    .venv/bin/python bench/run.py --only small --no-write

Each data set is measured in processes of its own: the application is created on the
generated database (one process, SQLite, as `make run` serves it), the bench user is logged
in the way a successful login does, every endpoint is warmed up, and then the endpoints are
requested in turn, round after round, so a busy moment on the machine hits them all alike;
the small and the large set take turns (`--chunks`) for the same reason. The time is
`time.perf_counter()` around the test client's call: the whole request through Flask
(routing, session, queries, template, response) without a network; the process's CPU time
is recorded beside it. Every response is checked (status and content) before its time
counts: timing an error page proves nothing.
`/healthz` (one `SELECT 1`) is measured in the same rounds; the ratios to its median make
runs on different machines comparable.
"""
import argparse
import datetime
import html
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

DATA = BENCH / "data"
from results import FINDINGS_MARKER, RESULTS  # noqa: E402  (bench/ is on sys.path)
PAGE_TARGET_MS, FRAGMENT_TARGET_MS, GROWTH_TARGET = 50.0, 25.0, 1.5

# (name, what it is, the target it is judged against)
ENDPOINTS = [
    ("healthz", "`GET /healthz` (the yardstick)", None),
    ("account list", "`GET /accounts/` full page, pages 1–20 by name", "page"),
    ("list search", "`GET /accounts/?q=…` htmx fragment (search as you type)", "fragment"),
    ("account page", "`GET /accounts/<id>` full page, the 20 busiest accounts", "page"),
    ("timeline more", "`GET /accounts/<id>/timeline/more?before=…` fragment", "fragment"),
    ("my day", "`GET /` full page, a user with ~5,000 accounts", "page"),
    ("api accounts", "`GET /api/v1/accounts` (50 per page, cursor pages)", "page"),
]
# Measured too, but outside the list: variants worth watching.
EXTRA = [
    ("list by last contact", "`GET /accounts/?sort=-last_contact` full page", "page"),
    ("list of one owner", "`GET /accounts/?owner=<bench user>` full page", "page"),
    ("list by stage", "`GET /accounts/?stage=…` full page", "page"),
    ("list by size class", "`GET /accounts/?size_class=…` full page", "page"),
    ("list by tag", "`GET /accounts/?tag=…` full page", "page"),
    ("filters combined", "`GET /accounts/?stage=…&size_class=…&tag=…` htmx fragment", "fragment"),
    ("list last page", "`GET /accounts/?page=<last>` full page", "page"),
    ("account page, calls", "`GET /accounts/<id>?kind=call` htmx fragment", "fragment"),
    ("api timeline", "`GET /api/v1/accounts/<id>/timeline`", "page"),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per endpoint first")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--small-entries", type=int, default=10_000)
    parser.add_argument("--large-entries", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("small", "large"))
    parser.add_argument("--regenerate", action="store_true", help="generate the data sets anew")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument("--notes", default="", help="conditions of the run, for RESULTS.md")
    parser.add_argument("--chunks", type=int, default=4,
                        help="the data sets take turns this many times (a share of the requests each)")
    parser.add_argument("--measure", metavar="DB", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.requests, args.warmup, args.seed)))
        return
    sets = {"small": args.small_entries, "large": args.large_entries}
    if args.only:
        sets = {args.only: sets[args.only]}
    metas = {name: ensure_data_set(name, entries, args) for name, entries in sets.items()}
    # The data sets take turns, a share of the requests each time, so that a busy spell on
    # the machine falls on both alike and the growth from small to large stays fair.
    chunks = max(1, min(args.chunks, args.requests))
    results = {}
    for chunk in range(chunks):
        requests = args.requests // chunks + (1 if chunk < args.requests % chunks else 0)
        for name in sets:
            print(f"measuring {name}, part {chunk + 1} of {chunks}: {requests} requests per "
                  "endpoint…", flush=True)
            load = os.getloadavg()
            run = run_child(DATA / f"{name}.db", requests, args.warmup, seed=chunk)
            if name not in results:
                results[name] = {**run, "meta": metas[name], "load": [load]}
            else:
                for key in ("samples", "cpu"):
                    for endpoint, values in run[key].items():
                        results[name][key][endpoint] += values
            results[name]["load"].append(os.getloadavg())
    for name, run in results.items():
        print_table(name, run)
    if len(results) == 2:
        print_growth(results)
    if not args.no_write and len(results) == 2:
        RESULTS.write_text(report(results, args))
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def ensure_data_set(name, entries, args):
    """The data set's metadata; generated first when missing, of other sizes or stale."""
    from generate import generate, schema_is_current
    path = DATA / f"{name}.db"
    meta = _metadata(path)
    wanted = {"accounts": args.accounts, "contacts": args.contacts, "entries": entries,
              "tasks": args.tasks}
    stale = meta is None or any(meta["sizes"].get(k) != v for k, v in wanted.items()) or \
        not schema_is_current(path)
    if args.regenerate or stale:
        print(f"generating the {name} data set ({entries:,} timeline entries)…", flush=True)
        meta = generate(out=path, **wanted)
    return meta


def run_child(path, requests, warmup, seed):
    """Measure in a fresh process: one app, one database, nothing left over from the other."""
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(path), "--requests", str(requests),
         "--warmup", str(warmup), "--seed", str(seed)], capture_output=True, text=True, cwd=ROOT)
    if child.returncode:
        sys.stderr.write(child.stderr)
        raise SystemExit(f"measuring {path.name} failed")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _metadata(path):
    meta_path = path.with_suffix(".json")
    if not path.exists() or not meta_path.exists():
        return None
    return json.loads(meta_path.read_text())


# -- measuring (in the child process) ----------------------------------------------------------

def measure(path, requests, warmup, seed=0):
    from playhouse.test_utils import count_queries

    from app import create_app
    from models import db

    meta = _metadata(path)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "HUEY_IMMEDIATE": True})
    client = app.test_client()
    with app.app_context():
        # Not connection_context(): the API cursors are read through requests, whose
        # teardown closes the connection.
        db.connect(reuse_if_open=True)
        cases = build_cases(meta)
        if not db.is_closed():
            db.close()
    login(client, meta["bench_user"])
    rng = random.Random(seed)

    def call(name):
        request = rng.choice(cases[name])
        cpu_started, started = time.process_time(), time.perf_counter()
        response = client.get(request["url"], headers=request.get("headers"))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        request["check"](response)
        return elapsed * 1000, cpu * 1000

    for name in cases:
        for _ in range(warmup):
            call(name)
    queries = {}
    for name in cases:
        with count_queries() as counter:
            call(name)
        queries[name] = counter.count
    samples = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    for _ in range(requests):
        for name in cases:
            wall, spent = call(name)
            samples[name].append(wall)
            cpu[name].append(spent)
    return {"samples": samples, "cpu": cpu, "queries": queries,
            "cases": {name: case_notes(cases[name]) for name in cases}}


def case_notes(requests):
    notes = [r["note"] for r in requests if r.get("note")]
    return {"variants": len(requests), "notes": list(dict.fromkeys(notes))[:6]}


def login(client, email):
    """Log in the way a successful login does (the session conftest's `login` writes)."""
    from models import db
    from models.users import User
    with db.connection_context():
        user = User.by_email(email)
    with client.session_transaction() as session:
        session.update(user_id=user.id, sv=user.session_version, seen=int(time.time()),
                       lang=user.language, _permanent=True)


def build_cases(meta):
    """The requests of each endpoint, chosen from the data, each with its check."""
    from flask import url_for

    from models import db
    from models.accounts import Account, search_key
    from models.timeline import TimelineEntry
    from models.users import User

    from generate import SURNAMES

    htmx = {"HX-Request": "true"}
    bearer = {"Authorization": f"Bearer {meta['token']}"}
    bench_user = User.by_email(meta["bench_user"])
    cases = {}
    with_ctx = _url_maker()

    cases["healthz"] = [{"url": "/healthz", "check": expect('"status":"ok"')}]

    cases["account list"] = [
        {"url": with_ctx("accounts.index", page=page), "check": expect("account-results", "<tr")}
        for page in range(1, 21)]

    # Surnames that match some hundreds of accounts each (accents and Greek included).
    # (On the full 100,000 accounts: 150 to 1,500 hits; proportionally fewer on a smaller set.)
    total = Account.select().count()
    terms = []
    for lang in SURNAMES:
        for surname in SURNAMES[lang]:
            term = surname.split()[-1][:8]
            hits = Account.search(search_key(term)).count()
            if 0.0015 * total <= hits <= 0.015 * total:
                terms.append((term, hits))
    random.Random(1).shuffle(terms)
    cases["list search"] = [
        {"url": with_ctx("accounts.index", q=term), "headers": htmx, "note": f"{term} ({hits})",
         "check": expect("<tr", exclude="<html")}
        for term, hits in terms[:12]]

    busiest = list(db.execute_sql(
        "SELECT account_id, count(*) AS n FROM timeline_entry GROUP BY account_id "
        "ORDER BY n DESC LIMIT 20").fetchall())
    accounts = {a.id: a for a in Account.select().where(Account.id.in_([a for a, _ in busiest]))}
    cases["account page"] = [
        {"url": with_ctx("accounts.show", account_id=account_id), "note": f"{count} entries",
         "check": expect(html.escape(accounts[account_id].name), "timeline-entries", "Show older")}
        for account_id, count in busiest]

    rng = random.Random(3)
    more = []
    for account_id, count in busiest:
        for _ in range(5):
            offset = rng.randrange(19, max(20, count - 2))
            entry = (TimelineEntry.select(TimelineEntry.id, TimelineEntry.occurred_at)
                     .where(TimelineEntry.account == account_id)
                     .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
                     .offset(offset).limit(1).get())
            more.append({"url": with_ctx("timeline.more", account_id=account_id,
                                         before=entry.cursor),
                         "headers": htmx, "note": f"depth {offset} of {count}",
                         "check": expect('class="timeline-entry', exclude="<html")})
    cases["timeline more"] = more

    cases["my day"] = [{"url": with_ctx("main.my_day"), "check": expect("my-day-tasks")}]

    api = []
    cursor = None
    for _ in range(20):
        url = "/api/v1/accounts" + (f"?cursor={cursor}" if cursor else "")
        api.append({"url": url, "headers": bearer, "check": expect_json_items(50)})
        with _request_client(bearer) as get:
            cursor = get(url)["next"]
        if not cursor:
            break
    cases["api accounts"] = api

    # Extra variants.
    cases["list by last contact"] = [
        {"url": with_ctx("accounts.index", sort="-last_contact", page=page),
         "check": expect("<tr")} for page in range(1, 6)]
    cases["list of one owner"] = [
        {"url": with_ctx("accounts.index", owner=bench_user.id, page=page),
         "check": expect("<tr")} for page in range(1, 6)]
    # The filters of the list, each value in turn (the rare ones read furthest for 25 rows).
    cases["list by stage"] = [{"url": with_ctx("accounts.index", stage=stage),
                               "check": expect("<tr")}
                              for stage in ("customer", "prospect", "suspect", "nurture", "lost")]
    cases["list by size class"] = [{"url": with_ctx("accounts.index", size_class=size),
                                    "check": expect("<tr")}
                                   for size in ("S", "M", "L", "XL", "XXL")]
    cases["list by tag"] = [{"url": with_ctx("accounts.index", tag=tag), "check": expect("<tr")}
                            for tag in ("key account", "distributor", "export", "franchise",
                                        "seasonal")]
    cases["filters combined"] = [
        {"url": with_ctx("accounts.index", stage=stage, size_class=size, tag="export"),
         "headers": htmx, "check": expect("<tr", exclude="<html")}
        for stage, size in (("customer", "XL"), ("prospect", "S"), ("lost", "XXL"),
                            ("nurture", "M"), ("customer", "L"))]
    last_page = (total - 1) // 25 + 1
    cases["list last page"] = [{"url": with_ctx("accounts.index", page=last_page - i),
                                "check": expect("<tr")} for i in range(5)]
    cases["account page, calls"] = [
        {"url": with_ctx("accounts.show", account_id=account_id, kind="call"), "headers": htmx,
         "check": expect("timeline-entries", exclude="<html")} for account_id, _ in busiest]
    cases["api timeline"] = [
        {"url": f"/api/v1/accounts/{account_id}/timeline", "headers": bearer,
         "check": expect_json_items(1)} for account_id, _ in busiest]
    empty = [name for name, requests in cases.items() if not requests]
    assert not empty, f"no requests for {empty}: is the data set too small?"
    return cases


def _url_maker():
    """url_for outside a request (the app has no SERVER_NAME): a request context per call."""
    from flask import current_app, url_for

    def make(endpoint, **values):
        with current_app.test_request_context():
            return url_for(endpoint, **values)
    return make


class _request_client:
    """A throw-away client for reading a cursor while the cases are built."""

    def __init__(self, headers):
        self.headers = headers

    def __enter__(self):
        from flask import current_app
        client = current_app.test_client()

        def get(url):
            response = client.get(url, headers=self.headers)
            assert response.status_code == 200, (url, response.status_code, response.get_data())
            return response.get_json()
        return get

    def __exit__(self, *exc):
        return False


def expect(*needles, exclude=None):
    def check(response):
        body = response.get_data(as_text=True)
        if response.status_code != 200:
            raise AssertionError(f"{response.request.path}: {response.status_code} {body[:300]}")
        for needle in needles:
            if needle not in body:
                raise AssertionError(f"{response.request.path}: {needle!r} missing")
        if exclude and exclude in body:
            raise AssertionError(f"{response.request.path}: {exclude!r} present (a whole page?)")
    return check


def expect_json_items(at_least):
    def check(response):
        if response.status_code != 200:
            raise AssertionError(f"{response.request.path}: {response.status_code} "
                                 f"{response.get_data(as_text=True)[:300]}")
        items = response.get_json()["items"]
        if len(items) < at_least:
            raise AssertionError(f"{response.request.path}: {len(items)} items")
    return check


# -- reporting ---------------------------------------------------------------------------------

def stats(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def summary(run):
    base = statistics.median(run["samples"]["healthz"])
    rows = {}
    for name, samples in run["samples"].items():
        median, p95 = stats(samples)
        cpu_median, cpu_p95 = stats(run["cpu"][name])
        rows[name] = {"median": median, "p95": p95, "ratio_median": median / base,
                      "ratio_p95": p95 / base, "queries": run["queries"][name],
                      "cpu_median": cpu_median, "cpu_p95": cpu_p95}
    return rows


def print_table(name, run):
    rows = summary(run)
    print(f"\n{name}: {run['meta']['sizes']}")
    print(f"{'endpoint':24} {'median ms':>10} {'p95 ms':>8} {'×healthz':>9} {'p95×h':>7} "
          f"{'cpu med':>8} {'cpu p95':>8} {'queries':>8}")
    for endpoint, row in rows.items():
        print(f"{endpoint:24} {row['median']:10.2f} {row['p95']:8.2f} {row['ratio_median']:9.1f} "
              f"{row['ratio_p95']:7.1f} {row['cpu_median']:8.2f} {row['cpu_p95']:8.2f} "
              f"{row['queries']:8}")


def print_growth(results):
    small, large = summary(results["small"]), summary(results["large"])
    print(f"\n{'endpoint':24} {'growth median':>14} {'growth p95':>11}")
    for endpoint in small:
        print(f"{endpoint:24} {large[endpoint]['median'] / small[endpoint]['median']:14.2f} "
              f"{large[endpoint]['p95'] / small[endpoint]['p95']:11.2f}")


def report(results, args):
    small, large = summary(results["small"]), summary(results["large"])
    meta_s, meta_l = results["small"]["meta"], results["large"]["meta"]
    targets = {"page": PAGE_TARGET_MS, "fragment": FRAGMENT_TARGET_MS}
    lines = [
        "# Benchmark results",
        "",
        "Produced by `bench/run.py` (`make bench`); the data by `bench/generate.py`. "
        "Numbers are server time per request (Flask test client, no network), in milliseconds.",
        "",
        f"- Date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- Machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"peewee {_version('peewee')}, Flask {_version('flask')}",
        "- One process, SQLite (WAL), the application's own configuration; "
        f"{args.requests} timed requests per endpoint after {args.warmup} warm-up requests, "
        "endpoints interleaved round by round.",
        "- The two data sets took turns in "
        f"{args.chunks} parts, each part in a fresh process, so that load on the machine "
        "fell on both alike.",
        "- Load average (1 min) at the start and end of each part: small "
        f"{_load(results['small']['load'])}; large {_load(results['large']['load'])}.",
    ]
    if args.notes:
        lines.append(f"- Conditions: {args.notes}")
    lines += [
        "",
        "## Data sets",
        "",
        "| set | users | accounts | contacts | timeline entries | tasks | file | generated in |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, meta in (("small", meta_s), ("large", meta_l)):
        s = meta["sizes"]
        lines.append(f"| {label} | {s['users']} | {s['accounts']:,} | {s['contacts']:,} | "
                     f"{s['entries']:,} | {s['tasks']:,} | {meta['size_mb']:,} MB | "
                     f"{meta['seconds']:.0f} s |")
    lines += [
        "",
        "## Results",
        "",
        "Ratios are to the median of `/healthz` in the same run "
        f"(small: {small['healthz']['median']:.2f} ms, large: {large['healthz']['median']:.2f} ms). "
        f"Targets: p95 under {PAGE_TARGET_MS:.0f} ms for a full page (the API list is judged "
        f"as one), under {FRAGMENT_TARGET_MS:.0f} ms for a fragment; growth from small to large "
        f"(median) under {GROWTH_TARGET}×.",
        "",
    ]
    header = ["| endpoint | small median | small p95 | ×healthz (med / p95) | large median "
              "| large p95 | ×healthz (med / p95) | growth (med / p95) | queries | target met |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for names in (ENDPOINTS, EXTRA):
        if names is EXTRA:
            lines += ["", "Other variants (not in the issue's list, same run):", ""]
        lines += header
        for name, _what, kind in names:
            if name not in small or name not in large:
                continue
            a, b = small[name], large[name]
            growth_m, growth_p = b["median"] / a["median"], b["p95"] / a["p95"]
            if kind is None:
                verdict = "—"
            else:
                target = targets[kind]
                ok_time = max(a["p95"], b["p95"]) < target
                ok_growth = growth_m < GROWTH_TARGET
                verdict = ("yes" if ok_time and ok_growth else
                           "no: " + ", ".join(filter(None, [
                               None if ok_time else f"p95 over {target:.0f} ms",
                               None if ok_growth else "growth"])))
            lines.append(
                f"| {name} | {a['median']:.1f} | {a['p95']:.1f} | "
                f"{a['ratio_median']:.1f} / {a['ratio_p95']:.1f} | {b['median']:.1f} | "
                f"{b['p95']:.1f} | {b['ratio_median']:.1f} / {b['ratio_p95']:.1f} | "
                f"{growth_m:.2f} / {growth_p:.2f} | {b['queries']} | {verdict} |")
    lines += [
        "",
        "CPU time of the process for the same requests (`time.process_time()`): what the request "
        "itself spent, without the waiting for a core that other work on the machine causes. "
        "The targets above are judged on the wall-clock time; this shows what a quiet machine "
        "would approach.",
        "",
        "| endpoint | small CPU median | small CPU p95 | large CPU median | large CPU p95 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, _what, _kind in ENDPOINTS + EXTRA:
        if name in small and name in large:
            a, b = small[name], large[name]
            lines.append(f"| {name} | {a['cpu_median']:.1f} | {a['cpu_p95']:.1f} | "
                         f"{b['cpu_median']:.1f} | {b['cpu_p95']:.1f} |")
    lines += ["", "## What was requested", ""]
    for name, what, _kind in ENDPOINTS + EXTRA:
        cases = results["large"]["cases"].get(name)
        if not cases:
            continue
        notes = f" — e.g. {', '.join(cases['notes'])}" if cases["notes"] else ""
        count = cases["variants"]
        lines.append(f"- **{name}**: {what}; {count} variant{'' if count == 1 else 's'}{notes}.")
    # Everything below the marker is written by hand (the analysis) and kept across runs.
    kept = RESULTS.read_text().partition(FINDINGS_MARKER)[2] if RESULTS.exists() else ""
    lines += ["", FINDINGS_MARKER + (kept.rstrip() if kept.strip() else "")]
    return "\n".join(lines) + "\n"


def _load(values):
    return ", ".join(f"{v[0]:.1f}" for v in values)


def _version(package):
    from importlib.metadata import version
    return version(package)


if __name__ == "__main__":
    main()
