"""Ingesting a mailbox: the poller against a bare imapclient fetch loop, same server, same run.

    .venv/bin/python bench/inbound.py                        # 10,000 messages, Dovecot if installed
    .venv/bin/python bench/inbound.py --count 2000 --server pymap --no-write

A local IMAP server (Dovecot when /usr/sbin/dovecot exists, else pymap; both from
tests/imap_servers.py, on a free loopback port without TLS) gets COUNT messages of mixed size:
most are short texts (1–5 kB), some carry an attachment (30–120 kB), one in a hundred a large
one (about 1 MB). A third come from contacts of the accounts (filed on a timeline), the others
from unknown senders (triage). Into a fresh, migrated SQLite database (or --database-url),
timed with `time.perf_counter()`:

1. the poller: `poll_mailbox`, in its two steps, each timed by the poller's report —
   storing (search, sizes, BODY.PEEK[] in batches, each batch stored whole with its copies
   and the checkpoint in one transaction) and filing (per message: parse, match, headers,
   bodies and attachments on the row, timeline entry; one transaction each);
2. the baseline, right after: a bare imapclient loop on one connection that SEARCHes and
   FETCHes BODY.PEEK[] for the same UIDs in batches of the poller's size, keeping nothing.

Peak memory: the process's peak resident set (resource.getrusage) before and after the poller,
and tracemalloc's peak of Python allocations during it (tracemalloc slows Python down, so it
runs in a second, smaller pass of --trace-count messages, not in the timed one).
The figures go to bench/RESULTS-inbound.md.
"""
import argparse
import datetime
import os
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from email.utils import format_datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

RESULTS = BENCH / "RESULTS-inbound.md"
CONTACTS = 50


def messages(count, seed=7):
    """(raw bytes, size class) for COUNT messages of mixed size, generated lazily."""
    rng = random.Random(seed)
    now = datetime.datetime.now(datetime.timezone.utc)
    for n in range(count):
        roll = rng.random()
        sender = (f"buyer{n % CONTACTS}@customer{n % CONTACTS}.example" if n % 3 == 0
                  else f"someone{n}@elsewhere{n % 97}.example")
        head = (f"From: Buyer {n} <{sender}>\r\nTo: sales@example.com\r\n"
                f"Subject: Order {n}\r\nDate: {format_datetime(now)}\r\n"
                f"Message-ID: <bench-{n}@customer.example>\r\nMIME-Version: 1.0\r\n")
        text = (f"Hello,\r\n\r\nplease send the following (order {n}).\r\n"
                + "Line of the order with a product and a quantity.\r\n" * rng.randint(15, 90))
        if roll < 0.84:
            yield (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text).encode(), "s"
            continue
        size = rng.randint(30_000, 120_000) if roll < 0.99 else rng.randint(900_000, 1_100_000)
        payload = os.urandom(size * 3 // 4)
        import base64
        encoded = base64.encodebytes(payload).decode().replace("\n", "\r\n")
        yield (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
               "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text +
               "\r\n--b\r\nContent-Type: application/pdf\r\n"
               f'Content-Disposition: attachment; filename="order-{n}.pdf"\r\n'
               "Content-Transfer-Encoding: base64\r\n\r\n" + encoded + "--b--\r\n"
               ).encode(), "m" if roll < 0.99 else "l"


def bare_fetch(server, batch_size):
    """Search and fetch every message with BODY.PEEK[] on one connection, keeping nothing."""
    from imapclient import IMAPClient
    started = time.perf_counter()
    fetched = size = 0
    client = IMAPClient(server.host, server.port, ssl=False, timeout=60)
    client.login(server.username, server.password)
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search(["UID", "1:*"]))
    for start in range(0, len(uids), batch_size):
        for data in client.fetch(uids[start:start + batch_size],
                                 ["BODY.PEEK[]", "RFC822.SIZE"]).values():
            fetched += 1
            size += len(data[b"BODY[]"])
    client.logout()
    return fetched, size, time.perf_counter() - started


def prepare(database_url):
    from app import create_app
    from models.db import db
    from models.migrations import migrate_up
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": database_url,
                      "HUEY_IMMEDIATE": True, "MAIL_DEFAULT_SENDER": "sales@example.com"})
    with app.app_context(), db.connection_context():
        migrate_up()
    return app


def seed_accounts():
    from models.accounts import Account
    from models.contacts import Contact, ContactEmail
    from models.users import User
    owner = User.create(email="bench@example.com", name="Bench", role="account_manager",
                        password_hash="x")
    for n in range(CONTACTS):
        account = Account.create(name=f"Customer {n}", search_name=f"customer {n}", owner=owner,
                                 stage="customer")
        contact = Contact.create(account=account, first_name="Buyer", last_name=str(n),
                                 search_name=f"buyer {n}")
        ContactEmail.create(contact=contact, email=f"buyer{n}@customer{n}.example")


def run(count, kind, database_url, trace_count):
    import imap_servers
    from mail.poller import BATCH_SIZE, poll_mailbox
    from models.db import db
    from models.emails import Email
    from models.inbound import Mailbox

    if kind == "dovecot":
        server = imap_servers.DovecotServer().start()
    else:
        server = imap_servers.PymapServer().start()
    workdir = tempfile.mkdtemp(prefix="bench-inbound-")
    database_url = database_url or f"sqlite:///{workdir}/bench.db"
    try:
        print(f"appending {count} messages to {kind}…", flush=True)
        sizes = {"s": 0, "m": 0, "l": 0}
        total_bytes = 0
        admin = server.client()
        for raw, size_class in messages(count):
            admin.append("INBOX", raw)
            sizes[size_class] += 1
            total_bytes += len(raw)
        admin.logout()
        app = prepare(database_url)
        with app.app_context(), db.connection_context():
            seed_accounts()
            mailbox = Mailbox.create(**server.mailbox_values(since_days=3650))
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print("polling…", flush=True)
            started = time.perf_counter()
            cpu = time.process_time()
            report = poll_mailbox(mailbox)
            poll_seconds = time.perf_counter() - started
            poll_cpu = time.process_time() - cpu
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            assert report.ok, report.lines()
            stored = Email.select().where(Email.direction == "in").count()
            states = dict(report.folders[0].states)
            store_seconds = report.folders[0].store_seconds
            file_seconds = report.folders[0].file_seconds
        print("bare fetch…", flush=True)
        fetched, fetched_bytes, bare_seconds = bare_fetch(server, BATCH_SIZE)
        traced = trace_run(server, trace_count, workdir) if trace_count else None
    finally:
        if isinstance(server, imap_servers.DovecotServer):
            server.remove()
        else:
            server.stop()
    return {"count": count, "kind": kind, "sizes": sizes, "bytes": total_bytes,
            "stored": stored, "new": report.new, "states": states,
            "poll_seconds": poll_seconds, "poll_cpu": poll_cpu,
            "store_seconds": store_seconds, "file_seconds": file_seconds,
            "bare_seconds": bare_seconds, "fetched": fetched, "fetched_bytes": fetched_bytes,
            "rss_before": rss_before, "rss_after": rss_after, "traced": traced,
            "database": "PostgreSQL" if database_url.startswith("postgres") else "SQLite"}


def trace_run(server, trace_count, workdir):
    """tracemalloc's peak while the poller files `trace_count` more messages (other ids)."""
    from mail.poller import poll_mailbox
    from models.db import db
    from models.inbound import Mailbox
    admin = server.client()
    admin.create_folder("Traced")
    for n, (raw, _) in enumerate(messages(trace_count, seed=11)):
        admin.append("Traced", raw.replace(b"<bench-", b"<traced-", 1))
    admin.logout()
    app = prepare(f"sqlite:///{workdir}/traced.db")
    with app.app_context(), db.connection_context():
        mailbox = Mailbox.create(**server.mailbox_values(since_days=3650, folders="Traced"))
        tracemalloc.start()
        report = poll_mailbox(mailbox)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        split = time_split()
    return {"count": report.new, "peak": peak, **split}


def time_split():
    """Where a message's time goes: I1's parser and matcher timed alone on the stored bytes."""
    from mail.inbound import match, parse_message
    from models.emails import Email
    raws = [bytes(r) for (r,) in Email.select(Email.raw).where(Email.direction == "in").tuples()]
    started = time.perf_counter()
    parsed = [parse_message(raw) for raw in raws]
    parse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for one in parsed:
        match(one)
    match_seconds = time.perf_counter() - started
    return {"split_count": len(raws), "parse_ms": parse_seconds * 1000 / len(raws),
            "match_ms": match_seconds * 1000 / len(raws)}


def write(result):
    rate = result["new"] / result["poll_seconds"]
    bare_rate = result["fetched"] / result["bare_seconds"]
    ratio = rate / bare_rate
    store_rate = result["new"] / result["store_seconds"]
    store_ratio = store_rate / bare_rate
    file_rate = result["new"] / result["file_seconds"]
    load = os.getloadavg()[0]
    mb = 1024 * 1024
    sizes = result["sizes"]
    traced = result["traced"]
    lines = [
        "# Inbound mail benchmark",
        "",
        f"Measured {datetime.date.today().isoformat()} with `bench/inbound.py` "
        f"({result['count']:,} messages from a local {result['kind']} server over loopback, "
        f"no TLS; {result['database']}; Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} while "
        "measuring).",
        "",
        f"Messages: {sizes['s']:,} short texts (1–5 kB), {sizes['m']:,} with a 30–120 kB "
        f"attachment, {sizes['l']:,} with a ~1 MB attachment; "
        f"{result['bytes'] / mb:.0f} MB in all. A third come from contacts (filed on a "
        "timeline), the rest from unknown senders (triage).",
        "",
        "| Run | messages | seconds | messages/s | MB/s | ratio to bare |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| poller, step 1 — stored: search, fetch, each batch stored whole with its "
        f"checkpoint (one transaction per batch) | {result['new']:,} | "
        f"{result['store_seconds']:.1f} | {store_rate:.0f} | "
        f"{result['bytes'] / mb / result['store_seconds']:.1f} | {store_ratio:.0%} |",
        f"| poller, step 2 — filed: parse, match, timeline (one transaction per message) | "
        f"{result['new']:,} | {result['file_seconds']:.1f} | {file_rate:.0f} | "
        f"{result['bytes'] / mb / result['file_seconds']:.1f} | "
        f"{file_rate / bare_rate:.0%} |",
        f"| poller, both steps: `poll_mailbox` from connect to the last message on its "
        f"timeline | {result['new']:,} | {result['poll_seconds']:.1f} | {rate:.0f} | "
        f"{result['bytes'] / mb / result['poll_seconds']:.1f} | {ratio:.0%} |",
        f"| bare imapclient loop: SEARCH + FETCH BODY.PEEK[] in batches, nothing kept | "
        f"{result['fetched']:,} | {result['bare_seconds']:.1f} | {bare_rate:.0f} | "
        f"{result['fetched_bytes'] / mb / result['bare_seconds']:.1f} | 100% |",
        "",
        f"- Poller CPU time: {result['poll_cpu']:.1f} s of {result['poll_seconds']:.1f} s "
        "wall (the rest: waiting for the server and the database).",
        "- States: " + ", ".join(f"{v:,} {k}" for k, v in sorted(result["states"].items()))
        + f"; {result['stored']:,} emails stored.",
        f"- Peak resident memory of the process: {result['rss_before'] / 1024:.0f} MB before "
        f"the poller, {result['rss_after'] / 1024:.0f} MB after it.",
    ]
    if traced:
        lines.append(f"- tracemalloc peak while the poller filed {traced['count']:,} more "
                     f"messages of the same mix: {traced['peak'] / mb:.1f} MB (bounded by a "
                     "batch of at most 16 MB of fetched bytes plus one message being parsed).")
    if traced:
        per_message = 1000 / rate
        rest = per_message - traced["parse_ms"] - traced["match_ms"]
        lines += ["", "Where a message's time goes (the parser and the matcher timed alone over "
                  f"{traced['split_count']:,} stored messages of the same mix):", "",
                  "| Part | ms per message |", "| --- | ---: |",
                  f"| the whole poller (from the timed run) | {per_message:.1f} |",
                  f"| `parse_message` (mail/parse.py) | {traced['parse_ms']:.1f} |",
                  f"| `match` (mail/matching.py) | {traced['match_ms']:.1f} |",
                  f"| storing (step 1: fetch, dedupe, raw bytes, copy, checkpoint) | "
                  f"{1000 * result['store_seconds'] / result['new']:.2f} |",
                  f"| the rest: filing's own queries, attachments, timeline, commit | "
                  f"{rest - 1000 * result['store_seconds'] / result['new']:.1f} |",
                  f"| bare fetch (from the timed run) | {1000 / bare_rate:.1f} |"]
    target_rate = "met" if rate >= 200 else "**missed**"
    target_ratio = "met" if store_ratio >= 0.8 else "**missed**"
    store_ms = 1000 * result["store_seconds"] / result["new"]
    fetch_ms = 1000 / bare_rate
    lines += ["", f"Why storing reaches {store_ratio:.0%} of the bare fetch: the bare loop only "
              "reads; step 1 also hashes each message, reads its Message-ID, looks its key up, "
              "writes the bytes (SQLite's WAL and its checkpoints write them twice) and commits "
              f"the checkpoint — {store_ms - fetch_ms:.2f} ms a message beside a fetch of "
              f"{fetch_ms:.2f} ms in this run. Fetching the next batch on a thread while this "
              "one is stored was tried and measured no faster: both halves are mostly Python "
              "holding the GIL. What would close the gap is a fetching process beside the "
              "storing one.",
              "", f"Targets: at least 200 messages/s from connect to timeline — {target_rate} "
              f"({rate:.0f}); the mailbox read and every message stored (durably, with its "
              f"checkpoint) at no less than 80% of the bare fetch rate — {target_ratio} "
              f"({store_ratio:.0%}; filing follows at {file_rate:.0f} messages/s).", ""]
    text = "\n".join(lines)
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--server", choices=("dovecot", "pymap"),
                        default="dovecot" if os.path.exists("/usr/sbin/dovecot") else "pymap")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--trace-count", type=int, default=500)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = run(args.count, args.server, args.database_url, args.trace_count)
    text = write(result)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
