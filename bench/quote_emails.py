"""Rendering and sending quote emails with their PDFs through a local SMTP server.

    .venv/bin/python bench/quote_emails.py                 # 1,000 quotes, writes the figures
    .venv/bin/python bench/quote_emails.py --count 100 --no-write

A fresh SQLite database (migrated, as `make run` serves it) gets COUNT approved quotes of three
lines each, for as many accounts and contacts. An aiosmtpd server on a free loopback port
accepts everything (counting, not keeping). Then, timed with `time.perf_counter()`:

1. `send_quote` per quote: templates in the quote's language, the PDF (WeasyPrint), the
   message stored in the outbox, the quote marked sent, the timeline entry — per email;
2. one run of the worker's job, `send_all_due` (batches of BATCH_SIZE on one connection
   each, every row claimed, DATA started and the outcome recorded), which must empty the
   outbox — per message;
3. the baselines, in the same run: the quote document's HTML alone (the templates without
   the PDF) for step 1, and the same stored MIME bytes sent again with plain
   `smtplib.sendmail` over one connection, nothing recorded, for step 2.

The figures go to bench/RESULTS.md under "Quote emails", keeping the other sections.
"""
import argparse
import datetime
import os
import platform
import smtplib
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))

from results import write_section  # noqa: E402  (bench/ is on sys.path)

HEADING = "## Quote emails: render, PDF, outbox, SMTP"


class Counter:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 2.0.0 Ok: queued"


def p95(values):
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def run(count):
    from aiosmtpd.controller import Controller

    from app import create_app
    from mail.documents import quote_html
    from mail.outbox import send_all_due
    from mail.quotes import send_quote
    from mail_servers import free_port, sendable_quote
    from models.db import db
    from models.emails import Email
    from models.migrations import migrate_up
    from models.users import User

    workdir = tempfile.mkdtemp(prefix="bench-mail-")
    handler = Counter()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{workdir}/bench.db",
                      "HUEY_IMMEDIATE": True, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                      "MAIL_DEFAULT_SENDER": "Sales <sales@example.com>",
                      "MAIL_REPLY_TO": "replies@example.com", "MAIL_PLUS_ADDRESSING": True,
                      "BASE_URL": "https://crm.example.com"})
    try:
        with app.app_context(), db.connection_context():
            migrate_up()
            user = User.create(email="bench@example.com", name="Bench", role="account_manager",
                               password_hash="x")
            languages = ("en", "nl", "it", "el")
            print(f"preparing {count} approved quotes…", flush=True)
            quotes = [sendable_quote(user, language=languages[i % 4],
                                     email=f"buyer{i}@customer.example") for i in range(count)]
            send_quote(sendable_quote(user), user)     # warm up: imports, fonts, templates
            send_all_due()
            handler.count = 0

            started = time.perf_counter()
            render = []
            for quote in quotes:
                t0 = time.perf_counter()
                send_quote(quote, user)
                render.append((time.perf_counter() - t0) * 1000)
            rendered_at = time.perf_counter()
            # The worker's minute, as the periodic job runs it: batch after batch.
            delivered = send_all_due(budget_seconds=3600)
            finished = time.perf_counter()
            assert delivered == {"sent": count}, delivered
            assert handler.count == count, (handler.count, count)
            assert Email.select().where(Email.status == "sent").count() == count + 1

            # Baseline for rendering: the quote document's HTML alone (templates, no PDF).
            html_only = []
            for quote in quotes:
                t0 = time.perf_counter()
                quote_html(quote)
                html_only.append((time.perf_counter() - t0) * 1000)

            raws = [(e.from_addr, e.to_addrs, bytes(e.raw)) for e in
                    Email.select().where(Email.quote.in_([q.id for q in quotes]))]
            handler.count = 0
            baseline = []
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for sender, to, raw in raws:
                    t0 = time.perf_counter()
                    smtp.sendmail("sales@example.com", [to.split("<")[-1].rstrip(">")], raw)
                    baseline.append((time.perf_counter() - t0) * 1000)
            assert handler.count == count
            size = statistics.mean(len(r) for _, _, r in raws) / 1024
    finally:
        controller.stop()
    return {
        "count": count, "render": render, "html_only": html_only, "baseline": baseline,
        "render_total": rendered_at - started, "deliver_total": finished - rendered_at,
        "total": finished - started, "size_kb": size,
    }


def section(figures):
    count = figures["count"]
    per_message = figures["deliver_total"] * 1000 / count
    smtp_base = statistics.median(figures["baseline"])
    html_base = statistics.median(figures["html_only"])
    render = figures["render"]
    lines = [
        HEADING, "",
        f"Measured {datetime.date.today().isoformat()} with `bench/quote_emails.py` "
        f"({count} quotes in en/nl/it/el, three lines each; Python {platform.python_version()}, "
        f"SQLite, {platform.machine()}, aiosmtpd on loopback, load average "
        f"{os.getloadavg()[0]:.1f} at the end). Messages average {figures['size_kb']:.0f} kB "
        "with their PDF.", "",
        "| Step | median ms | p95 ms | baseline median ms | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| `send_quote` per email: templates, PDF, outbox row, mark sent, timeline | "
        f"{statistics.median(render):.2f} | {p95(render):.2f} | {html_base:.2f} | "
        f"{statistics.median(render) / html_base:.1f}× |",
        f"| baseline: the quote document's HTML alone (templates, no PDF) | {html_base:.2f} | "
        f"{p95(figures['html_only']):.2f} | | |",
        f"| the worker's run (`send_all_due`, as the job calls it) per message: claim, SMTP, "
        f"record | {per_message:.2f} (mean) | | {smtp_base:.2f} | {per_message / smtp_base:.1f}× |",
        f"| baseline: the same MIME bytes, `smtplib.sendmail`, one connection | {smtp_base:.2f} | "
        f"{p95(figures['baseline']):.2f} | | |",
        "",
        f"- Rendering and queueing {count} quote emails: {figures['render_total']:.1f} s "
        f"({count / figures['render_total']:.1f} emails/s).",
        f"- Delivering them: one run of the worker's job, {figures['deliver_total']:.1f} s "
        f"({count / figures['deliver_total']:.0f} messages/s).",
        f"- End to end: {figures['total']:.1f} s, {count / figures['total']:.1f} messages/s. "
        "The PDF (WeasyPrint) is most of the render time (the ratio to the HTML alone); "
        "delivery costs a few bookkeeping writes per message over the bare SMTP baseline.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = section(run(args.count))
    print(text)
    if not args.no_write:
        written = write_section(HEADING, text)
        print(f"written to {written.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
