"""The quote builder's live recalculation: server time for a 50-line quote.

    .venv/bin/python bench/quote_builder.py                # 400 rounds, writes the figures
    .venv/bin/python bench/quote_builder.py --rounds 50 --no-write

A fresh SQLite database (migrated, as `make run` serves it) gets an account, a contact, 50
catalogue products and a quote with a line for each. A user is logged in the way a successful
login does. Each round then requests, in turn:

- `POST /quotes/<id>/recalculate` as htmx sends it while someone types: every line's quantity,
  price and discount in the form, one quantity changed; the answer is the lines+totals fragment;
- `GET /quotes/<id>` with `HX-Request` (the same fragment from the stored lines);
- `GET /healthz` (one `SELECT 1`): the yardstick, so runs on other machines compare by ratio.

The time is `time.perf_counter()` around the test client's call (routing, session, CSRF,
queries, template; no network). Each answer is checked (status and the expected total) before
its time counts. The figures go to bench/RESULTS.md under "Quote builder", keeping any
other section of that file.
"""
import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from results import write_section  # noqa: E402  (bench/ is on sys.path)

HEADING = "## Quote builder: live recalculation"
TARGET_MS = 25.0
LINES = 50


def setup(app):
    from models.accounts import clean_account, save_account
    from models.contacts import Contact, clean_contact, save_contact
    from models.products import Product, set_search_name
    from models.quotes import QuoteLine, create_quote
    from models.users import User

    user = User.create(email="bench@example.com", name="Bench", role="account_manager",
                       password_hash="x")
    account = save_account(clean_account({"name": "Bench BV", "stage": "customer",
                                          "size_class": "M", "owner": str(user.id),
                                          "language": "nl", "currency": "EUR"}))
    contact = save_contact(clean_contact({"first_name": "Anna", "last_name": "Bench",
                                          "emails": "anna@bench.example"}),
                           Contact(account=account))
    quote = create_quote(account, user, contact)
    rng = random.Random(7)
    for i in range(LINES):
        product = Product(code=f"B-{i:03d}", name=f"Bench product {i}",
                          list_price=Decimal(rng.randint(100, 99999)) / 100,
                          cost_price=Decimal(rng.randint(50, 5000)) / 100,
                          vat_rate=Decimal(rng.choice(("21", "9", "0"))),
                          stock=Decimal(rng.randint(0, 40)), lead_time_days=rng.randint(0, 20))
        set_search_name(product)
        product.save()
        QuoteLine.create(quote=quote, position=i + 1, product=product,
                         description=product.name, unit="pc",
                         quantity=Decimal(rng.randint(1, 30)), unit_price=product.list_price,
                         discount_pct=Decimal(rng.choice(("0", "2.5", "5"))),
                         cost_price=product.cost_price, vat_rate=product.vat_rate,
                         agreed_price=product.list_price)
    return user, quote


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()

    from app import create_app
    from models.db import db
    from models.migrations import migrate_up
    from models.quotes import calculate

    directory = tempfile.mkdtemp(prefix="quote-bench-")
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{directory}/bench.db",
                      "WTF_CSRF_ENABLED": False, "TESTING": False})
    with app.app_context(), db.connection_context():
        migrate_up()
        user, quote = setup(app)
        lines = list(quote.ordered_lines())
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(user_id=user.id, sv=user.session_version, seen=int(time.time()),
                       lang="en", _permanent=True)

    htmx = {"HX-Request": "true"}
    base_form = {}
    for line in lines:
        base_form[f"quantity-{line.id}"] = str(line.quantity)
        base_form[f"unit_price-{line.id}"] = str(line.unit_price)
        base_form[f"discount_pct-{line.id}"] = str(line.discount_pct)
    rng = random.Random(11)

    def recalculate():
        form = dict(base_form)
        changed = rng.choice(lines)
        form[f"quantity-{changed.id}"] = str(rng.randint(1, 99))
        for line in lines:
            line.quantity = Decimal(form[f"quantity-{line.id}"])
        expected = calculate(lines).gross
        started = time.perf_counter()
        response = client.post(f"/quotes/{quote.id}/recalculate", data=form, headers=htmx)
        elapsed = time.perf_counter() - started
        body = response.get_data(as_text=True)
        assert response.status_code == 200, response.status_code
        assert f"{expected:,.2f}" in body, "the fragment does not show the expected gross total"
        for line in lines:   # back to the stored values for the next round
            line.quantity = Decimal(base_form[f"quantity-{line.id}"])
        return elapsed

    def fragment():
        started = time.perf_counter()
        response = client.get(f"/quotes/{quote.id}", headers=htmx)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and 'id="quote-lines"' in response.get_data(as_text=True)
        return elapsed

    def healthz():
        started = time.perf_counter()
        response = client.get("/healthz")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        return elapsed

    measures = {"healthz": healthz, "recalculate": recalculate, "fragment": fragment}
    for measure in measures.values():      # warm up: templates compiled, caches filled
        for _ in range(10):
            measure()
    times = {name: [] for name in measures}
    for _ in range(options.rounds):
        for name, measure in measures.items():
            times[name].append(measure() * 1000)

    def figures(values):
        ordered = sorted(values)
        return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]

    base_median, base_p95 = figures(times["healthz"])
    rows = []
    for name, label in (("recalculate", f"`POST /quotes/<id>/recalculate` ({LINES} lines, htmx)"),
                        ("fragment", f"`GET /quotes/<id>` htmx fragment ({LINES} lines)"),
                        ("healthz", "`GET /healthz` (the yardstick)")):
        median, p95 = figures(times[name])
        verdict = "" if name == "healthz" else ("met" if p95 < TARGET_MS else "**missed**")
        rows.append(f"| {label} | {median:.2f} | {p95:.2f} | {median / base_median:.1f}× | "
                    f"{verdict} |")
        print(f"{name:12s} median {median:7.2f} ms   p95 {p95:7.2f} ms   "
              f"{median / base_median:5.1f}× healthz")

    section = "\n".join([
        HEADING,
        "",
        f"Measured {datetime.date.today().isoformat()} with `bench/quote_builder.py` "
        f"({options.rounds} rounds; Python {platform.python_version()}, SQLite, "
        f"{platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} while measuring). Server time through Flask's test client, "
        f"no network; on a busy machine the absolute times grow, the ratio to healthz much less. "
        f"Target: p95 under {TARGET_MS:.0f} ms for the recalculation of a {LINES}-line quote.",
        "",
        "| Request | median ms | p95 ms | median ÷ healthz | target |",
        "| --- | ---: | ---: | ---: | --- |",
        *rows,
        "",
    ])
    if not options.no_write:
        written = write_section(HEADING, section)
        print(f"written to {written.relative_to(ROOT)}")



if __name__ == "__main__":
    main()
