"""IMAP IDLE against real servers (pymap and Dovecot): new mail filed without waiting for
the minute poll, renewals, reconnecting after a cut connection or a restarted server, backing
off on a wrong password, stopping promptly, and the supervisor following the mailboxes.

Every watcher and supervisor a test starts is stopped and joined by the `threads` fixture,
so no thread outlives its test. Waits are deadline loops on a condition, never a bare sleep.
"""
import datetime
import os
import time
from email.utils import format_datetime

import pytest

import jobs
from conftest import make_account, make_contact, service_missing
from imap_servers import DOVECOT, DovecotServer, DroppingProxy
from mail.idle import FolderWatcher, IdleSupervisor, Target
from mail.poller import poll_mailbox
from models.db import db
from models.emails import Email
from models.inbound import InboundCopy, Mailbox
from models.timeline import TimelineEntry

SENDER = "anna@devries.example"
DEADLINE = 60        # seconds: generous, for a busy 2-core machine
QUICK = {"renew_seconds": 5, "check_seconds": 0.2, "first_pause": 0.2, "max_pause": 1.0}


# --- helpers (the message and mailbox shapes of test_poller.py) -------------------------

def message(n, sender=SENDER, subject=None):
    date = datetime.datetime.now(datetime.timezone.utc)
    lines = [f"From: Anna Jansen <{sender}>", "To: sales@example.com",
             f"Subject: {subject or f'Order {n}'}", f"Date: {format_datetime(date)}",
             f"Message-ID: <idle{n}.{os.getpid()}@devries.example>"]
    return ("\r\n".join(lines) + f"\r\n\r\nMessage number {n}.\r\n").encode()


def mailbox_for(server, **extra):
    return Mailbox.create(**server.mailbox_values(**extra))


def counts():
    return (Email.select().where(Email.direction == "in").count(), InboundCopy.select().count(),
            TimelineEntry.select().where(TimelineEntry.kind == "email_in").count())


def wait_for(condition, what, deadline=DEADLINE):
    """Poll `condition` until it holds; fail saying `what` did not happen."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"not within {deadline}s: {what}")


def filed(n):
    """Wait until n inbound messages are filed: past `pending` (stored, not yet filed), each
    in one transaction with its timeline entry or its place in triage."""
    wait_for(lambda: Email.select().where((Email.direction == "in")
                                          & (Email.inbound_state != "pending")).count() >= n,
             f"{n} messages filed")


@pytest.fixture
def customer(user):
    account = make_account(user)
    contact = make_contact(account, emails=SENDER)
    return account, contact


class Threads:
    """What a test starts: watchers and supervisors, stopped and joined at its end."""

    def __init__(self, app):
        self.app = app
        self.started = []

    def poll(self, mailbox_id):
        """The poll a trigger asks for; in the worker it is a queued job."""
        with self.app.app_context(), db.connection_context():
            poll_mailbox(Mailbox.get_by_id(mailbox_id))

    def watch(self, mailbox, folder="INBOX", **options):
        target = next(t for t in Target.all_of(mailbox) if t.folder == folder)
        watcher = FolderWatcher(target, self.poll, **{**QUICK, **options})
        self.started.append(watcher)
        return watcher.start()

    def supervise(self, **options):
        supervisor = IdleSupervisor(self.app, self.poll, **{**QUICK, **options})
        self.started.append(supervisor)
        return supervisor.start()

    def adopt(self, supervisor):
        self.started.append(supervisor)
        return supervisor

    def stop_all(self):
        for thing in self.started:
            thing.stop()
            if isinstance(thing, FolderWatcher):
                thing.join()
        alive = [thing for thing in self.started if thing.alive]
        assert not alive, f"threads still running: {alive}"


@pytest.fixture
def threads(app):
    running = Threads(app)
    yield running
    running.stop_all()


def idling_again(watcher, connects):
    return lambda: watcher.connects >= connects and watcher.idling.is_set()


# --- new mail ---------------------------------------------------------------------------

def test_a_message_arriving_while_idling_is_filed_without_a_poll_by_hand(imap_server,
                                                                         customer, threads):
    account, contact = customer
    mailbox = mailbox_for(imap_server)
    watcher = threads.watch(mailbox)
    wait_for(watcher.idling.is_set, "the watcher idles")

    imap_server.append(message(1))
    filed(1)
    imap_server.append(message(2, sender="someone@elsewhere.example", subject="A question"))
    filed(2)

    assert counts() == (2, 2, 1)           # the unknown sender waits in triage, off any timeline
    known = Email.get(Email.subject == "Order 1")
    assert known.account_id == account.id and known.inbound_state == "filed"
    assert TimelineEntry.get(TimelineEntry.kind == "email_in",
                             TimelineEntry.subject == "Order 1").account_id == account.id
    assert Email.get(Email.subject == "A question").inbound_state == "triage"
    assert watcher.triggers >= 2 and watcher.connects == 1 and watcher.attempts == 1
    assert watcher.alive and watcher.state == "idling"


def test_after_several_renewals_new_mail_still_triggers(imap_server, customer, threads):
    mailbox = mailbox_for(imap_server)
    watcher = threads.watch(mailbox, renew_seconds=1)
    wait_for(lambda: watcher.renewals >= 3 and watcher.idling.is_set(), "three renewals")

    imap_server.append(message(1))
    filed(1)

    assert counts() == (1, 1, 1)
    assert watcher.connects == 1, "renewing is DONE, NOOP, IDLE on the same connection"
    assert watcher.triggers >= 1 and not watcher.pauses


# --- failures ---------------------------------------------------------------------------

def test_a_cut_connection_is_reconnected_and_nothing_is_filed_twice(imap_server, customer,
                                                                     threads):
    proxy = DroppingProxy(imap_server.host, imap_server.port)
    try:
        mailbox = mailbox_for(imap_server, port=proxy.port)
        watcher = threads.watch(mailbox)
        wait_for(watcher.idling.is_set, "the watcher idles")
        imap_server.append(message(1))
        filed(1)

        proxy.cut()
        imap_server.append(message(2))     # while the watcher is away, or just back
        wait_for(idling_again(watcher, 2), "the watcher reconnects and idles again")
        filed(2)
        imap_server.append(message(3))
        filed(3)

        assert watcher.pauses, "the cut was noticed and waited for"
        assert watcher.triggers >= 3      # message 1, the reconnect, message 3
        assert counts() == (3, 3, 3)
        assert poll_mailbox(Mailbox.get_by_id(mailbox.id)).new == 0
        assert counts() == (3, 3, 3)
    finally:
        proxy.close()


def test_a_reconnect_asks_for_one_poll(imap_server, customer, threads):
    """Mail may have come while the watcher was away: it asks for a poll when back."""
    proxy = DroppingProxy(imap_server.host, imap_server.port)
    try:
        mailbox = mailbox_for(imap_server, port=proxy.port)
        watcher = threads.watch(mailbox)
        wait_for(watcher.idling.is_set, "the watcher idles")
        assert watcher.triggers == 0

        proxy.cut()
        wait_for(idling_again(watcher, 2), "the watcher reconnects and idles again")

        assert watcher.triggers == 1
    finally:
        proxy.close()


def test_a_restarted_server_is_watched_again(dovecot_server, customer, threads):
    """Dovecot keeps its mail across a restart; the watcher waits for it to come back."""
    mailbox = mailbox_for(dovecot_server)
    watcher = threads.watch(mailbox)
    wait_for(watcher.idling.is_set, "the watcher idles")
    dovecot_server.append(message(1))
    filed(1)

    dovecot_server.stop()
    wait_for(lambda: "refused the connection" in watcher.last_error,
             "the watcher finds the server gone")
    dovecot_server.start()
    wait_for(idling_again(watcher, 2), "the watcher reconnects and idles again")
    dovecot_server.append(message(2))
    filed(2)

    assert counts() == (2, 2, 2)


def test_a_wrong_password_backs_off_without_spinning_and_stop_ends_it(imap_server, app,
                                                                      threads):
    mailbox = mailbox_for(imap_server, password="wrong")
    watcher = threads.watch(mailbox, first_pause=0.5, max_pause=2.0)
    wait_for(lambda: len(watcher.pauses) >= 4, "four failed attempts")

    assert list(watcher.pauses)[:4] == [0.5, 1.0, 2.0, 2.0]   # growing, then capped
    assert watcher.last_error == "The server refused the user name or password."
    assert watcher.connects == 0 and watcher.triggers == 0
    # At the cap, a window of W seconds holds at most W / 2 + 1 attempts, however fast the
    # server refuses; without the pause there would be one per login (pymap: ~0.5 s).
    before = watcher.attempts
    time.sleep(4)     # an observation window, not a wait for something to happen
    assert watcher.attempts - before <= 3

    watcher.stop()
    watcher.join()
    assert not watcher.alive and watcher.state == "stopped"


class DovecotWithoutIdle(DovecotServer):
    kind = "dovecot without IDLE"

    def _configure(self):
        super()._configure()
        with open(self.root / "dovecot.conf", "a") as conf:
            conf.write("imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE NAMESPACE "
                       "UIDPLUS\n")


@pytest.fixture
def server_without_idle():
    if not os.path.exists(DOVECOT):
        service_missing("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotWithoutIdle().start()
    yield server
    server.remove()


def test_a_server_without_idle_is_left_to_the_minute_poll(server_without_idle, customer,
                                                          threads):
    mailbox = mailbox_for(server_without_idle)
    supervisor = threads.supervise(refresh_seconds=0.2)
    wait_for(lambda: any(w.state == "unsupported" for w in supervisor.watchers().values()),
             "the watcher finds no IDLE")
    watcher = supervisor.watchers()[(mailbox.id, "INBOX")]
    wait_for(lambda: not watcher.alive, "the watcher's thread ends")
    refreshes = supervisor.refreshes
    wait_for(lambda: supervisor.refreshes >= refreshes + 2, "two more supervisor rounds")

    assert supervisor.watchers()[(mailbox.id, "INBOX")] is watcher   # not asked again
    assert watcher.attempts == 1 and watcher.triggers == 0
    server_without_idle.append(message(1))
    assert poll_mailbox(mailbox).new == 1
    assert counts() == (1, 1, 1)


# --- stopping and supervising -------------------------------------------------------------

def test_stop_ends_every_watcher(imap_server, app, threads):
    imap_server.create_folder("Sales")
    first = mailbox_for(imap_server, folders="INBOX,Sales")
    second = mailbox_for(imap_server, name="second", folders="Sales")
    supervisor = threads.supervise()
    keys = {(first.id, "INBOX"), (first.id, "Sales"), (second.id, "Sales")}
    wait_for(lambda: set(supervisor.watchers()) == keys
             and all(w.idling.is_set() for w in supervisor.watchers().values()),
             "three watchers idle")
    watchers = list(supervisor.watchers().values())

    supervisor.stop()

    assert not supervisor.alive
    assert [w.alive for w in watchers] == [False] * 3
    assert {w.state for w in watchers} == {"stopped"}
    assert supervisor.watchers() == {}


def test_the_supervisor_follows_added_deactivated_and_changed_mailboxes(imap_server,
                                                                        customer, threads):
    imap_server.create_folder("Sales")
    first = mailbox_for(imap_server)
    supervisor = threads.supervise(refresh_seconds=0.2)
    wait_for(lambda: (first.id, "INBOX") in supervisor.watchers(), "a watcher for the first")
    first_watcher = supervisor.watchers()[(first.id, "INBOX")]

    second = mailbox_for(imap_server, name="second", folders="Sales")
    wait_for(lambda: (second.id, "Sales") in supervisor.watchers(), "a watcher for the added")
    Mailbox.update(active=False).where(Mailbox.id == first.id).execute()
    wait_for(lambda: (first.id, "INBOX") not in supervisor.watchers(),
             "the deactivated one dropped")
    assert not first_watcher.alive

    sales = supervisor.watchers()[(second.id, "Sales")]
    wait_for(sales.idling.is_set, "the added mailbox's watcher idles")
    imap_server.append(message(1), folder="Sales")
    imap_server.append(message(2))           # INBOX: nobody watches it any more
    filed(1)
    assert {e.subject for e in Email.select()} == {"Order 1"}

    # Changed settings: a new folder gets a watcher, a new password restarts the others.
    imap_server.create_folder("Archive")
    Mailbox.update(folders="Sales,Archive", password="changed").where(
        Mailbox.id == second.id).execute()
    wait_for(lambda: (second.id, "Archive") in supervisor.watchers()
             and supervisor.watchers()[(second.id, "Sales")] is not sales,
             "watchers with the new settings")
    assert not sales.alive
    assert supervisor.watchers()[(second.id, "Sales")].target.password == "changed"
    assert set(supervisor.watchers()) == {(second.id, "Sales"), (second.id, "Archive")}


def test_the_worker_hook_queues_a_poll_for_new_mail(imap_server, app, customer, threads):
    """jobs.start_idle as the worker runs it; the test app runs the queued poll at once."""
    mailbox = mailbox_for(imap_server)
    supervisor = threads.adopt(jobs.start_idle(app))
    wait_for(lambda: (mailbox.id, "INBOX") in supervisor.watchers()
             and supervisor.watchers()[(mailbox.id, "INBOX")].idling.is_set(),
             "the worker's watcher idles")

    imap_server.append(message(1))
    filed(1)

    assert counts() == (1, 1, 1)
    app.config["IMAP_IDLE"] = False
    assert jobs.start_idle(app) is None
