"""The IMAP poller against real servers over sockets (pymap, and Dovecot when installed).

Every message is filed exactly once: a second poll files nothing, the `UID n:*` trap is
filtered, a renumbered folder (UIDVALIDITY) is resynchronised without duplicates, one
message in two folders is one Email, failures are recorded with backoff, flags stay as they
were, the first sync is bounded — and the poller killed at random moments, over and over,
still files every message once (the crash test).
"""
import datetime
import os
import random
import signal
import subprocess
import sys
import time
from email.utils import format_datetime
from pathlib import Path

import pytest

from conftest import make_account, make_contact
from imap_servers import DroppingProxy
from mail import poller
from mail.poller import poll_all, poll_mailbox, test_connection
from mail_servers import free_port
from models.db import utcnow
from models.emails import Email
from models.inbound import FolderCheckpoint, InboundCopy, Mailbox
from models.timeline import TimelineEntry

ROOT = Path(__file__).resolve().parent.parent
SENDER = "anna@devries.example"


def message(n, sender=SENDER, subject=None, message_id=None, date=None, body=None,
            headers=""):
    """One RFC 5322 message as bytes; `message_id=False` leaves the header out."""
    date = date or datetime.datetime.now(datetime.timezone.utc)
    lines = [f"From: Anna Jansen <{sender}>", "To: sales@example.com",
             f"Subject: {subject or f'Order {n}'}", f"Date: {format_datetime(date)}"]
    if message_id is not False:
        lines.append(f"Message-ID: <{message_id or f'm{n}.{os.getpid()}@devries.example'}>")
    text = "\r\n".join(lines) + "\r\n" + headers + "\r\n" + (body or f"Message number {n}.\r\n")
    return text.encode()


@pytest.fixture
def customer(user):
    account = make_account(user)
    contact = make_contact(account, emails=SENDER)
    return account, contact


def mailbox_for(server, **extra):
    return Mailbox.create(**server.mailbox_values(**extra))


def counts():
    return (Email.select().where(Email.direction == "in").count(), InboundCopy.select().count(),
            TimelineEntry.select().where(TimelineEntry.kind == "email_in").count())


def test_new_messages_are_filed_once_and_a_second_poll_files_nothing(imap_server, customer):
    account, contact = customer
    sent = [message(n) for n in range(3)]
    for raw in sent:
        imap_server.append(raw)
    mailbox = mailbox_for(imap_server)

    report = poll_mailbox(mailbox)

    assert report.ok, report.lines()
    assert (report.new, report.duplicates) == (3, 0)
    assert report.folders[0].states["filed"] == 3
    assert counts() == (3, 3, 3)
    emails = list(Email.select().where(Email.direction == "in").order_by(Email.id))
    assert {e.account_id for e in emails} == {account.id}
    assert {e.subject for e in emails} == {"Order 0", "Order 1", "Order 2"}
    assert [bytes(e.raw) for e in emails] == sent      # the bytes as fetched
    mailbox = Mailbox.get_by_id(mailbox.id)
    assert (mailbox.status, mailbox.failures, mailbox.last_error) == ("ok", 0, "")
    assert mailbox.last_poll_at is not None and mailbox.next_poll_at > mailbox.last_poll_at

    again = poll_mailbox(mailbox)

    assert again.ok and (again.new, again.duplicates) == (0, 0)
    assert counts() == (3, 3, 3)


def test_uid_star_trap_is_filtered(imap_server, customer):
    """`UID n:*` with n above the highest UID still answers the highest UID."""
    for n in range(2):
        imap_server.append(message(n))
    mailbox = mailbox_for(imap_server)
    poll_mailbox(mailbox)
    checkpoint = FolderCheckpoint.get(FolderCheckpoint.mailbox == mailbox)
    with imap_server.client() as client:
        client.select_folder("INBOX", readonly=True)
        answered = client.search(["UID", f"{checkpoint.last_uid + 1}:*"])
    assert answered == [checkpoint.last_uid]   # the trap is real on this server

    report = poll_mailbox(mailbox)

    assert report.ok and report.new == 0 and report.duplicates == 0
    assert counts() == (2, 2, 2)


def test_changed_uidvalidity_resyncs_without_duplicates(imap_server, customer):
    imap_server.create_folder("Sales")
    mails = [message(n) for n in range(4)]
    for raw in mails[:3]:
        imap_server.append(raw, folder="Sales")
    mailbox = mailbox_for(imap_server, folders="Sales")
    poll_mailbox(mailbox)
    before = FolderCheckpoint.get(FolderCheckpoint.mailbox == mailbox).uidvalidity
    # The folder is renumbered: deleted and made again, the same mail back in it plus one.
    imap_server.delete_folder("Sales")
    imap_server.create_folder("Sales")
    for raw in mails:
        imap_server.append(raw, folder="Sales")

    report = poll_mailbox(mailbox)

    folder = report.folders[0]
    assert report.ok, report.lines()
    assert folder.resync and (folder.new, folder.duplicates) == (1, 3)
    checkpoint = FolderCheckpoint.get(FolderCheckpoint.mailbox == mailbox)
    assert checkpoint.uidvalidity != before
    assert counts() == (4, 3 + 4, 4)   # old copies kept under the old UIDVALIDITY
    assert InboundCopy.select().where(InboundCopy.uidvalidity == checkpoint.uidvalidity).count() == 4
    assert poll_mailbox(mailbox).new == 0


def test_one_message_in_two_folders_is_one_email_with_two_copies(imap_server, customer):
    imap_server.create_folder("Sales")
    raw = message(1)
    imap_server.append(raw)
    # Delivered to a second monitored address: other delivery headers, the same message.
    imap_server.append(b"Delivered-To: orders@example.com\r\nReceived: from mx by us\r\n" + raw,
                       folder="Sales")
    mailbox = mailbox_for(imap_server, folders="INBOX, Sales")

    report = poll_mailbox(mailbox)

    assert report.ok
    assert [(f.folder, f.new, f.duplicates) for f in report.folders] == [
        ("INBOX", 1, 0), ("Sales", 0, 1)]
    assert counts() == (1, 2, 1)
    email = Email.get(Email.direction == "in")
    assert sorted(c.folder for c in email.copies) == ["INBOX", "Sales"]


def test_seen_flags_are_left_alone(imap_server, customer):
    imap_server.append(message(1))
    imap_server.append(message(2), flags=[b"\\Seen"])
    mailbox = mailbox_for(imap_server)

    assert poll_mailbox(mailbox).new == 2

    with imap_server.client() as client:
        client.select_folder("INBOX", readonly=True)
        flags = {uid: set(data[b"FLAGS"]) for uid, data in
                 client.fetch(client.search(["ALL"]), ["FLAGS"]).items()}
    seen = sorted(b"\\Seen" in f for f in flags.values())
    assert seen == [False, True]


def test_first_sync_reads_only_since_days(imap_server, customer):
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=200)
    for n in range(3):
        imap_server.append(message(n, date=old), when=old)
    for n in range(3, 5):
        imap_server.append(message(n))
    mailbox = mailbox_for(imap_server, since_days=90)

    report = poll_mailbox(mailbox)

    assert report.folders[0].first_sync and report.new == 2
    checkpoint = FolderCheckpoint.get(FolderCheckpoint.mailbox == mailbox)
    assert (checkpoint.total, checkpoint.done) == (2, 2)
    assert {e.subject for e in Email.select()} == {"Order 3", "Order 4"}
    # After the first sync every new message counts, whatever its date.
    imap_server.append(message(9, date=old), when=old)
    report = poll_mailbox(mailbox)
    assert not report.folders[0].first_sync and report.new == 1


def test_delete_after_import_only_when_turned_on(imap_server, customer):
    for n in range(3):
        imap_server.append(message(n))
    keeping = mailbox_for(imap_server)
    assert poll_mailbox(keeping).new == 3
    with imap_server.client() as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 3

    deleting = mailbox_for(imap_server, name="deleting", delete_after_import=True)
    report = poll_mailbox(deleting)

    assert report.ok and report.duplicates == 3
    with imap_server.client() as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    assert counts() == (3, 6, 3)


# --- failures --------------------------------------------------------------------------

def test_wrong_password_is_an_error_with_backoff(imap_server, app):
    mailbox = mailbox_for(imap_server, password="wrong")

    report = poll_mailbox(mailbox)

    assert not report.ok
    mailbox = Mailbox.get_by_id(mailbox.id)
    assert mailbox.status == "error" and mailbox.failures == 1
    assert mailbox.last_error == "The server refused the user name or password."
    first_wait = mailbox.next_poll_at - mailbox.last_poll_at
    poll_mailbox(mailbox)
    mailbox = Mailbox.get_by_id(mailbox.id)
    assert mailbox.failures == 2
    assert mailbox.next_poll_at - mailbox.last_poll_at > first_wait
    assert mailbox not in poller.due_mailboxes()


def test_refused_port_and_unknown_host_are_said_plainly(app):
    port = free_port()
    refused = Mailbox.create(name="refused", host="127.0.0.1", port=port, security="none",
                             username="u", password="p")
    poll_mailbox(refused)
    refused = Mailbox.get_by_id(refused.id)
    assert refused.status == "error"
    assert refused.last_error == (f"The server 127.0.0.1 refused the connection on port {port}. "
                                  "Check the port, and that the server is running.")
    ok, text = test_connection("no-such-host.invalid", 993, "ssl", "u", "p", "INBOX")
    assert not ok and "could not be found (DNS)" in text


def test_missing_folder_is_an_error_but_the_other_folders_are_read(imap_server, customer):
    imap_server.append(message(1))
    mailbox = mailbox_for(imap_server, folders="INBOX,Archief")

    report = poll_mailbox(mailbox)

    assert report.new == 1 and not report.ok
    mailbox = Mailbox.get_by_id(mailbox.id)
    assert mailbox.status == "error"
    assert mailbox.last_error == 'The folder "Archief" does not exist on the server.'


def test_test_connection_says_what_is_wrong(imap_server):
    values = imap_server.mailbox_values()
    args = (values["host"], values["port"], "none", values["username"])
    assert test_connection(*args, values["password"], "INBOX") == (
        True, 'Connected and signed in. "INBOX" has 0 messages.')
    assert test_connection(*args, "wrong", "INBOX") == (
        False, "The server refused the user name or password.")
    assert test_connection(*args, values["password"], "Nope") == (
        False, 'The folder "Nope" does not exist on the server.')
    ok, text = test_connection(values["host"], values["port"], "ssl", values["username"],
                               values["password"], "INBOX")
    assert not ok and text.startswith("A secure connection (TLS) could not be set up")


def test_connection_dropped_mid_fetch_then_the_next_run_continues(imap_server, customer,
                                                                  monkeypatch):
    monkeypatch.setattr(poller, "BATCH_SIZE", 10)
    imap_server.append_many([message(n, body="x" * 2000 + "\r\n") for n in range(60)])
    proxy = DroppingProxy(imap_server.host, imap_server.port)
    try:
        mailbox = mailbox_for(imap_server, port=proxy.port)
        proxy.drop_after = 60_000     # about half of the messages

        report = poll_mailbox(mailbox)

        assert proxy.dropped.is_set()
        mailbox = Mailbox.get_by_id(mailbox.id)
        assert mailbox.status == "error" and mailbox.failures == 1
        assert mailbox.last_error.startswith("The connection to the server was lost")
        stored = counts()[0]
        assert 0 < stored < 60 and report.new == stored
        checkpoint = FolderCheckpoint.get(FolderCheckpoint.mailbox == mailbox)
        assert InboundCopy.select().where(InboundCopy.uid > checkpoint.last_uid).count() == 0

        report = poll_mailbox(mailbox)

        assert report.ok and report.new == 60 - stored and report.duplicates == 0
        assert counts() == (60, 60, 60)
        assert Mailbox.get_by_id(mailbox.id).status == "ok"
    finally:
        proxy.close()


def test_server_restart_between_polls(dovecot_server, customer):
    """Dovecot keeps its mail across a restart: stopped → error; started → continues."""
    dovecot_server.append(message(1))
    mailbox = mailbox_for(dovecot_server)
    assert poll_mailbox(mailbox).new == 1
    dovecot_server.stop()

    report = poll_mailbox(mailbox)

    assert not report.ok and "refused the connection" in Mailbox.get_by_id(mailbox.id).last_error
    dovecot_server.start()
    dovecot_server.append(message(2))
    report = poll_mailbox(mailbox)
    assert report.ok and (report.new, report.duplicates) == (1, 0)
    assert counts() == (2, 2, 2)


def test_poll_all_reads_due_mailboxes_and_the_configured_one(imap_server, app, customer):
    imap_server.append(message(1))
    app.config.update(IMAP_HOST=imap_server.host, IMAP_PORT=imap_server.port,
                      IMAP_USERNAME=imap_server.username, IMAP_PASSWORD=imap_server.password,
                      IMAP_SSL=False, IMAP_FOLDER="INBOX")
    later = Mailbox.create(name="later", host="127.0.0.1", port=free_port(), security="none",
                           username="u", password="p",
                           next_poll_at=utcnow() + datetime.timedelta(minutes=5))

    reports = poll_all()

    configured = Mailbox.get(Mailbox.from_config == True)  # noqa: E712
    assert (configured.host, configured.port, configured.security) == (
        imap_server.host, imap_server.port, "none")
    assert [r.mailbox_id for r in reports] == [configured.id]
    assert reports[0].new == 1
    assert Mailbox.get_by_id(later.id).last_poll_at is None
    app.config["IMAP_FOLDER"] = "INBOX,Sales"
    poll_all()
    assert Mailbox.select().where(Mailbox.from_config == True).count() == 1  # noqa: E712
    assert Mailbox.get_by_id(configured.id).folders == "INBOX,Sales"


def test_cli_polls_once_and_says_what_it_did(imap_server, runner, customer):
    for n in range(2):
        imap_server.append(message(n))
    imap_server.append(message(7, sender="someone@elsewhere.example"))
    mailbox_for(imap_server)

    result = runner.invoke(args=["mail", "poll", "--once"])

    assert result.exit_code == 0, result.output
    assert "INBOX: 3 new (2 filed, 1 triage), 0 duplicates, first sync" in result.output
    result = runner.invoke(args=["mail", "poll", "--once"])
    assert "INBOX: 0 new, 0 duplicates" in result.output


# --- the crash test ----------------------------------------------------------------------

CRASH_POLLER = """
import sys
sys.path[:0] = [{root!r}]
from app import create_app
from mail import inbound, poller
from mail.poller import poll_mailbox
from models import db
from models.inbound import Mailbox

app = create_app({{"TESTING": True, "SECRET_KEY": "crash", "DATABASE_URL": sys.argv[1],
                  "HUEY_IMMEDIATE": True, "MAIL_DEFAULT_SENDER": "sales@example.com"}})
# A line per batch about to be stored and per message about to be filed, so the crash test
# can kill at a chosen point of either step; small batches give storing many such points.
poller.BATCH_SIZE = 5
store_messages, file_stored = poller.store_messages, inbound.file_stored
def storing(*args, **kwargs):
    print("storing", flush=True)
    return store_messages(*args, **kwargs)
def filing(*args, **kwargs):
    print("filing", flush=True)
    return file_stored(*args, **kwargs)
poller.store_messages, inbound.file_stored = storing, filing

with app.app_context(), db.connection_context():
    mailbox = Mailbox.get_by_id(int(sys.argv[2]))
    print("polling", flush=True)
    report = poll_mailbox(mailbox)
    print("done", report.new, report.duplicates, report.problem, flush=True)
"""


def test_killed_poller_files_every_message_exactly_once(imap_server, customer, database_url):
    total = 200
    rng = random.Random(4)
    imap_server.append_many([message(n, body=f"Message {n}\r\n" + "y" * rng.randint(100, 6000))
                             for n in range(total)])
    mailbox = mailbox_for(imap_server)
    script = CRASH_POLLER.format(root=str(ROOT))
    kills, runs = 0, 0
    progress = []
    while runs < 80:
        runs += 1
        process = subprocess.Popen([sys.executable, "-c", script, database_url, str(mailbox.id)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        assert process.stdout.readline().startswith(b"polling"), process.stderr.read()
        if runs <= 40:
            # Kill while (or just after) the k-th batch or message of this run is stored or
            # filed: a point chosen by progress, not by the clock, so a slow or busy machine
            # kills as often.
            read = [process.stdout.readline() for _ in range(rng.randint(1, 20))]
            if all(line.startswith((b"storing", b"filing")) for line in read):
                time.sleep(rng.uniform(0.0, 0.005))
                process.send_signal(signal.SIGKILL)
                kills += 1
        else:
            read = []
        out, err = process.communicate(timeout=120)
        out = b"".join(read) + out
        progress.append(counts())
        if process.returncode == 0:
            assert b"done" in out, err
            if out.split(b"done", 1)[1].split()[0] == b"0" and counts() == (total,) * 3:
                break
    assert kills >= 5
    # Killed at several points of both steps, not only at the start.
    assert len({stored for stored, _, _ in progress}) >= 3, progress
    assert len({filed for _, _, filed in progress}) >= 3, progress
    emails = list(Email.select(Email.message_id).where(Email.direction == "in"))
    assert len(emails) == total
    assert len({e.message_id for e in emails}) == total
    assert InboundCopy.select().count() == total
    assert InboundCopy.select(InboundCopy.uid).distinct().count() == total
    assert TimelineEntry.select().where(TimelineEntry.kind == "email_in").count() == total
    checkpoint = FolderCheckpoint.get(FolderCheckpoint.mailbox == mailbox)
    assert checkpoint.last_uid == max(c.uid for c in InboundCopy.select(InboundCopy.uid))
    assert (checkpoint.total, checkpoint.done) == (total, total)


def test_worker_job_polls_the_due_mailboxes(imap_server, app, customer):
    imap_server.append(message(1))
    mailbox = mailbox_for(imap_server)
    paused = mailbox_for(imap_server, name="paused", active=False)

    app.extensions["huey"].poll_mailboxes()    # the tests run jobs at once (HUEY_IMMEDIATE)

    assert Mailbox.get_by_id(mailbox.id).status == "ok"
    assert Mailbox.get_by_id(paused.id).last_poll_at is None
    assert counts() == (1, 1, 1)


def test_two_pollers_at_once_file_every_message_once(imap_server, customer, database_url):
    """"Poll now" while the worker polls: the checkpoint only moves forward, the unique
    indexes refuse a second copy, and the slower poller stops instead of filing twice."""
    total = 80
    imap_server.append_many([message(n) for n in range(total)])
    mailbox = mailbox_for(imap_server)
    script = CRASH_POLLER.format(root=str(ROOT))
    processes = [subprocess.Popen([sys.executable, "-c", script, database_url, str(mailbox.id)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    filed = sum(int(out.split(b"done", 1)[1].split()[0]) for out, _ in outputs)
    report = poll_mailbox(mailbox)       # whatever a stopped poller left, this one finishes
    assert filed + report.new == total
    assert counts() == (total, total, total)


def test_two_mailboxes_storing_one_message_at_the_same_moment(app, monkeypatch):
    """The same message reaches two monitored mailboxes and both pollers store it at once: on
    PostgreSQL the second waits on the first's unique key, fails when it commits, and stores
    the batch again as a copy; SQLite's write lock makes them take turns."""
    import threading

    from mail import poller as poller_module
    from mail.poller import FolderReport
    from models.db import db
    raw = (b"From: a@x.example\r\nTo: sales@example.com\r\nSubject: hi\r\n"
           b"Message-ID: <both@x.example>\r\n\r\nbody\r\n")
    mailboxes = [Mailbox.create(name=name, host="h.example", username=name)
                 for name in ("one", "two")]
    checkpoints = {m.id: FolderCheckpoint.create(mailbox=m, folder="INBOX", uidvalidity=1,
                                                 last_uid=0) for m in mailboxes}
    first_stored, carry_on, errors = threading.Event(), threading.Event(), {}
    store_messages = poller_module.store_messages

    def held_open(*args, **kwargs):     # the first poller waits, its transaction still open
        stored = store_messages(*args, **kwargs)
        if threading.current_thread().name == "first":
            first_stored.set()
            carry_on.wait(30)
        return stored
    monkeypatch.setattr(poller_module, "store_messages", held_open)

    def store(mailbox):
        try:
            with app.app_context(), db.connection_context():
                poller_module._store_batch(mailbox, "INBOX", 1, checkpoints[mailbox.id], [1],
                                           [(1, raw)], False, FolderReport("INBOX"), None)
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            errors[threading.current_thread().name] = repr(error)

    first = threading.Thread(target=store, args=(mailboxes[0],), name="first")
    first.start()
    assert first_stored.wait(30)
    second = threading.Thread(target=store, args=(mailboxes[1],), name="second")
    second.start()
    second.join(1)                      # blocked behind the first one
    carry_on.set()
    first.join(30)
    second.join(30)

    assert errors == {}
    assert Email.select().where(Email.direction == "in").count() == 1
    assert sorted(c.mailbox_id for c in InboundCopy.select()) == sorted(m.id for m in mailboxes)
    assert [c.last_uid for c in FolderCheckpoint.select()] == [1, 1]
