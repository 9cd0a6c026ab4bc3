"""The IMAP poller: every new message of every configured folder, filed exactly once.

Per folder (`poll_folder`):

1. SELECT it read-only (EXAMINE; read-write only when the admin turned on
   `delete_after_import`) and read its UIDVALIDITY. A folder seen for the first time, or
   whose UIDVALIDITY changed (the server renumbered it), starts a (re)sync from UID 0:
   stored messages are recognised by Message-ID (mail/inbound.py), so a resync files nothing
   twice — it only records the new copies.
2. SEARCH `UID <last+1>:*` and keep only UIDs above the checkpoint: `n:*` always includes the
   highest UID of the folder, even when it is below n. A first sync (or resync) adds
   `SINCE <today - since_days>` and records its progress in FolderCheckpoint.total/done.
3. FETCH sizes (RFC822.SIZE) for up to SIZE_WINDOW UIDs, then the messages with BODY.PEEK[]
   (never sets \\Seen) in batches of at most BATCH_SIZE messages and BATCH_BYTES bytes; a
   message larger than BATCH_BYTES is fetched alone. Memory is bounded by the larger of
   BATCH_BYTES and one message; the parser keeps no attachment over its limit in memory
   beyond what the email module needs (mail/parse.py, MAX_ATTACHMENT_BYTES).
4. For each batch, one transaction: its messages stored whole (`store_messages`, as
   `pending`) and the checkpoint moved to its last UID. Killed at any moment, the next run
   continues after the last committed batch. The checkpoint moves only forward (a
   conditional UPDATE): a second poller running at the same time stops instead of storing
   a message twice.
5. Only with `delete_after_import`: the committed messages are deleted on the server, after
   the commit.
6. Then every pending message is filed (`file_pending`: parsed, matched, on the timeline),
   one transaction each — also the ones a killed or failed run left behind.

A failure (DNS, refused, timeout, TLS, login, a missing folder, a dropped connection) is
logged and recorded on the mailbox — status "error", the reason in plain words, one more
failure and the next poll after a growing pause (models.emails.backoff). It never reaches the
web app: the worker polls (jobs.py), requests only queue a poll.

The worker polls every minute (POLL_SECONDS); where the server has IDLE, mail/idle.py
triggers a poll as soon as mail arrives. The UID search is the source of truth either way.
"""
import datetime
import logging
import socket
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from peewee import DatabaseError, IntegrityError

from models.db import db, utcnow, write_transaction
from models.emails import backoff
from models.inbound import FolderCheckpoint, Mailbox

from .inbound import file_pending, store_messages

log = logging.getLogger(__name__)

TIMEOUT = 30              # seconds a silent server may hold the poller, per command
BATCH_SIZE = 50           # messages per FETCH
BATCH_BYTES = 16 * 1024 * 1024   # … and at most this many bytes (one larger message alone)
SIZE_WINDOW = 500         # UIDs whose sizes are asked for at once
STORE_ATTEMPTS = 3        # a batch that collided with another poller's is stored again
POLL_SECONDS = 50         # after a good poll; the worker looks every minute
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class FolderMissing(Exception):
    def __init__(self, folder):
        super().__init__(folder)
        self.folder = folder


class _Overtaken(Exception):
    """Another poller moved this folder's checkpoint past us: stop, it carries on."""


@dataclass
class FolderReport:
    folder: str
    new: int = 0
    duplicates: int = 0
    states: Counter = field(default_factory=Counter)
    resync: bool = False
    first_sync: bool = False
    error: str = ""
    store_seconds: float = 0.0      # fetching and storing (step 4)
    file_seconds: float = 0.0       # filing what was stored (step 6)

    @property
    def triage(self):
        return self.states["triage"]

    @property
    def unparsed(self):
        return self.states["unparsed"]

    def line(self):
        """One line in plain words, for the CLI and the logs."""
        parts = [f"{self.new} new"]
        if self.states:     # also messages an earlier run stored and this one filed
            parts[0] += " (" + ", ".join(
                f"{count} {state}" for state, count in sorted(self.states.items())) + ")"
        parts.append(f"{self.duplicates} duplicate{'s' if self.duplicates != 1 else ''}")
        if self.resync:
            parts.append("resynchronised: UIDVALIDITY changed")
        elif self.first_sync:
            parts.append("first sync")
        if self.error:
            parts.append(f"error: {self.error}")
        return f"{self.folder}: " + ", ".join(parts)


@dataclass
class PollReport:
    mailbox: str
    mailbox_id: int = 0
    folders: list = field(default_factory=list)
    error: str = ""

    @property
    def ok(self):
        return not self.error and not any(f.error for f in self.folders)

    @property
    def new(self):
        return sum(f.new for f in self.folders)

    @property
    def duplicates(self):
        return sum(f.duplicates for f in self.folders)

    def lines(self):
        head = f"{self.mailbox}: " + ("ok" if self.ok else f"error: {self.problem}")
        return [head] + [f"  {f.line()}" for f in self.folders]

    @property
    def problem(self):
        return self.error or "; ".join(f.error for f in self.folders if f.error)


# ---------------------------------------------------------------------------------------
# Connecting, and saying what went wrong

def connect(host, port, security, username, password, timeout=TIMEOUT):
    """A logged-in IMAPClient; raises what went wrong (see `describe`)."""
    context = ssl.create_default_context() if security in ("ssl", "starttls") else None
    client = IMAPClient(host, port=port, ssl=security == "ssl", ssl_context=context,
                        timeout=timeout)
    try:
        if security == "starttls":
            client.starttls(context)
        client.login(username, password)
    except BaseException:
        close(client)
        raise
    return client


def close(client):
    """Sign out; when the server does not answer, just drop the connection."""
    try:
        client.logout()
    except Exception:  # noqa: BLE001 — it is going away either way
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


def describe(error, host="", port=""):
    """What went wrong, in words an admin can act on."""
    if isinstance(error, FolderMissing):
        return str(_l('The folder "%(folder)s" does not exist on the server.',
                      folder=error.folder))
    if isinstance(error, socket.gaierror):
        return str(_l('The server name "%(host)s" could not be found (DNS). Check the spelling.',
                      host=host))
    if isinstance(error, ConnectionRefusedError):
        return str(_l("The server %(host)s refused the connection on port %(port)s. Check the "
                      "port, and that the server is running.", host=host, port=port))
    if isinstance(error, (TimeoutError, socket.timeout)):
        return str(_l("The server %(host)s did not answer within %(seconds)s seconds.",
                      host=host, seconds=TIMEOUT))
    if isinstance(error, ssl.SSLCertVerificationError):
        return str(_l("The server's certificate could not be verified (TLS): %(reason)s.",
                      reason=error.verify_message or error.reason))
    if isinstance(error, ssl.SSLError):
        return str(_l("A secure connection (TLS) could not be set up: %(reason)s. Check the "
                      "security setting (SSL, STARTTLS or none) for this port.",
                      reason=error.reason or error))
    if isinstance(error, LoginError):
        return str(_l("The server refused the user name or password."))
    if isinstance(error, (IMAPClientAbortError, ConnectionError, EOFError)):
        return str(_l("The connection to the server was lost: %(reason)s.",
                      reason=_text(error) or type(error).__name__))
    if isinstance(error, IMAPClientError):
        text = _text(error)
        if "STARTTLS" in text.upper():
            return str(_l("The server does not offer STARTTLS. Choose SSL or none."))
        return str(_l("The server answered with an error: %(reason)s.", reason=text))
    if isinstance(error, OSError):
        return str(_l("Network error: %(reason)s.", reason=error.strerror or _text(error)))
    return f"{type(error).__name__}: {_text(error)}"


def _text(error):
    text = str(error)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text.strip()


def test_connection(host, port, security, username, password, folder="INBOX"):
    """(ok, message): whether we can read `folder` (comma-separated folders), in plain words."""
    folders = [f.strip() for f in (folder or "INBOX").split(",") if f.strip()] or ["INBOX"]
    try:
        socket.getaddrinfo(host, port)
    except (socket.gaierror, UnicodeError) as error:
        return False, describe(error if isinstance(error, socket.gaierror)
                               else socket.gaierror(), host, port)
    client = None
    try:
        client = connect(host, port, security, username, password)
        counts = []
        for name in folders:
            if not client.folder_exists(name):
                raise FolderMissing(name)
            info = client.select_folder(name, readonly=True)
            counts.append((name, int(info.get(b"EXISTS", 0))))
    except Exception as error:  # noqa: BLE001 — every failure is answered in words
        return False, describe(error, host, port)
    finally:
        if client is not None:
            close(client)
    return True, str(_l("Connected and signed in. %(folders)s.", folders="; ".join(
        str(_l('"%(folder)s" has %(count)s messages', folder=name, count=count))
        for name, count in counts)))


test_connection.__test__ = False  # not a test, though pytest would collect it by its name


# ---------------------------------------------------------------------------------------
# Polling

def sync_configured_mailbox(config):
    """The Mailbox row for the IMAP_* settings (created or updated); None when not set.

    IMAP_SSL on → SSL; off → STARTTLS, or no encryption for a server on this machine.
    """
    host = (config.get("IMAP_HOST") or "").strip()
    if not host:
        return None
    if config.get("IMAP_SSL", True):
        security = "ssl"
    else:
        security = "none" if host in LOOPBACK else "starttls"
    values = {"host": host, "port": int(config.get("IMAP_PORT") or 993), "security": security,
              "username": config.get("IMAP_USERNAME") or "",
              "password": config.get("IMAP_PASSWORD") or "",
              "folders": config.get("IMAP_FOLDER") or "INBOX"}
    mailbox = Mailbox.get_or_none(Mailbox.from_config == True)  # noqa: E712
    if mailbox is None:
        name = f"{values['username'] or host} ({_l('settings')})"
        return Mailbox.create(name=name, from_config=True, **values)
    changed = {k: v for k, v in values.items() if getattr(mailbox, k) != v}
    if changed:
        Mailbox.update(**changed).where(Mailbox.id == mailbox.id).execute()
        for key, value in changed.items():
            setattr(mailbox, key, value)
    return mailbox


def due_mailboxes(now=None):
    now = now or utcnow()
    return list(Mailbox.select()
                .where(Mailbox.active
                       & (Mailbox.next_poll_at.is_null() | (Mailbox.next_poll_at <= now)))
                .order_by(Mailbox.next_poll_at, Mailbox.id))


def poll_all(now=None, due_only=True, config=None):
    """Poll the active mailboxes (only the due ones unless `due_only` is off); their reports."""
    if config is None:
        from flask import current_app, has_app_context
        config = current_app.config if has_app_context() else {}
    sync_configured_mailbox(config)
    if due_only:
        mailboxes = due_mailboxes(now)
    else:
        mailboxes = list(Mailbox.select().where(Mailbox.active).order_by(Mailbox.id))
    reports = [poll_mailbox(mailbox, now) for mailbox in mailboxes]
    file_pending(now)   # what a killed run left, also when no mailbox is due or active
    return reports


def poll_mailbox(mailbox, now=None):
    """Read every folder of `mailbox` once; a PollReport. Failures are recorded, never raised
    (except the database itself failing)."""
    now = now or utcnow()
    report = PollReport(mailbox.name, mailbox.id)
    client = None
    try:
        client = connect(mailbox.host, mailbox.port, mailbox.security, mailbox.username,
                         mailbox.password)
        for folder in mailbox.folder_list:
            folder_report = FolderReport(folder)
            report.folders.append(folder_report)
            try:
                poll_folder(client, mailbox, folder, folder_report, now)
            except FolderMissing as error:
                folder_report.error = describe(error)
            except Exception as error:
                folder_report.error = describe(error, mailbox.host, mailbox.port)
                raise
    except DatabaseError:
        raise
    except Exception as error:  # noqa: BLE001 — recorded on the mailbox, shown to the admin
        report.error = describe(error, mailbox.host, mailbox.port)
        if not isinstance(error, (OSError, IMAPClientError, EOFError, FolderMissing)):
            log.exception("Polling mailbox %s failed", mailbox.name)
    finally:
        if client is not None:
            close(client)
    if not report.ok:
        # What was stored before the connection failed is filed all the same.
        leftover = file_pending(now)
        if report.folders:
            report.folders[-1].states.update(leftover)
    _record_outcome(mailbox, report)
    for line in report.lines():
        (log.info if report.ok else log.warning)("%s", line)
    return report


def _record_outcome(mailbox, report):
    finished = utcnow()
    if report.ok:
        values = {"status": "ok", "last_error": "", "failures": 0,
                  "next_poll_at": finished + datetime.timedelta(seconds=POLL_SECONDS)}
    else:
        failures = (Mailbox.select(Mailbox.failures).where(Mailbox.id == mailbox.id).scalar()
                    or 0) + 1
        values = {"status": "error", "last_error": report.problem, "failures": failures,
                  "next_poll_at": finished + backoff(failures)}
    values["last_poll_at"] = finished
    Mailbox.update(**values).where(Mailbox.id == mailbox.id).execute()
    for key, value in values.items():
        setattr(mailbox, key, value)


def poll_folder(client, mailbox, folder, report, now=None):
    """File the new messages of one folder (see the module's docstring)."""
    now = now or utcnow()
    if not client.folder_exists(folder):
        raise FolderMissing(folder)
    info = client.select_folder(folder, readonly=not mailbox.delete_after_import)
    uidvalidity = int(info[b"UIDVALIDITY"])
    checkpoint = _checkpoint(mailbox, folder, uidvalidity, report)
    first_sync = checkpoint.last_uid == 0 or checkpoint.done < checkpoint.total
    report.first_sync = first_sync
    criteria = ["UID", f"{checkpoint.last_uid + 1}:*"]
    if first_sync:
        since = (now - datetime.timedelta(days=mailbox.since_days)).date()
        criteria += ["SINCE", since]
    # `n:*` includes the folder's highest UID even when it is below n: filter it out.
    uids = sorted(u for u in client.search(criteria) if u > checkpoint.last_uid)
    if first_sync:
        total = checkpoint.done + len(uids)
        (FolderCheckpoint.update(total=total, updated_at=utcnow())
         .where(FolderCheckpoint.id == checkpoint.id).execute())
        checkpoint.total = total
    started = time.perf_counter()
    try:
        # Fetching the next batch on a thread while this one is stored was measured: no
        # faster, both halves are mostly Python holding the GIL (bench/RESULTS-inbound.md).
        for batch, messages in _fetch_batches(client, uids):
            _store_batch(mailbox, folder, uidvalidity, checkpoint, batch, messages, first_sync,
                         report, now)
            if mailbox.delete_after_import and messages:
                _delete(client, [uid for uid, _ in messages])
    except _Overtaken:
        log.info("%s %s: another poller is ahead; stopping here", mailbox.name, folder)
    filing = time.perf_counter()
    report.store_seconds = filing - started
    report.states.update(file_pending(now))
    report.file_seconds = time.perf_counter() - filing
    return report


def _checkpoint(mailbox, folder, uidvalidity, report):
    """The folder's checkpoint; new, or reset when the server renumbered the folder."""
    checkpoint = FolderCheckpoint.get_or_none((FolderCheckpoint.mailbox == mailbox)
                                              & (FolderCheckpoint.folder == folder))
    if checkpoint is None:
        try:
            with db.atomic():
                return FolderCheckpoint.create(mailbox=mailbox, folder=folder,
                                               uidvalidity=uidvalidity, last_uid=0,
                                               updated_at=utcnow())
        except IntegrityError:  # another poller created it a moment ago
            return FolderCheckpoint.get((FolderCheckpoint.mailbox == mailbox)
                                        & (FolderCheckpoint.folder == folder))
    if checkpoint.uidvalidity != uidvalidity:
        log.warning("%s %s: UIDVALIDITY changed from %s to %s; resynchronising", mailbox.name,
                    folder, checkpoint.uidvalidity, uidvalidity)
        report.resync = True
        (FolderCheckpoint.update(uidvalidity=uidvalidity, last_uid=0, total=0, done=0,
                                 updated_at=utcnow())
         .where(FolderCheckpoint.id == checkpoint.id).execute())
        checkpoint.uidvalidity, checkpoint.last_uid = uidvalidity, 0
        checkpoint.total = checkpoint.done = 0
    return checkpoint


def _batches(uids, sizes):
    """UIDs in order, grouped by count and bytes; a message over BATCH_BYTES goes alone."""
    batch, batch_bytes = [], 0
    for uid in uids:
        size = int((sizes.get(uid) or {}).get(b"RFC822.SIZE", 0) or 0)
        if batch and (len(batch) >= BATCH_SIZE or batch_bytes + size > BATCH_BYTES):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(uid)
        batch_bytes += size
    if batch:
        yield batch


def _fetch_batches(client, uids):
    """(batch of UIDs, [(uid, raw bytes)]) for every batch, in UID order."""
    for start in range(0, len(uids), SIZE_WINDOW):
        window = uids[start:start + SIZE_WINDOW]
        sizes = client.fetch(window, ["RFC822.SIZE"])
        for batch in _batches(window, sizes):
            fetched = client.fetch(batch, ["BODY.PEEK[]", "RFC822.SIZE"])
            # A UID missing from the answer was expunged since the search: nothing to store.
            yield batch, [(uid, bytes(fetched[uid].get(b"BODY[]") or b"")) for uid in batch
                          if uid in fetched]


def _store_batch(mailbox, folder, uidvalidity, checkpoint, batch, messages, first_sync, report,
                 now):
    """Store one fetched batch with the checkpoint moved past it, in one transaction."""
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            with write_transaction():
                stored = store_messages(messages, mailbox, folder, uidvalidity, now)
                _advance(checkpoint, uidvalidity, batch[-1], first_sync, len(batch))
            break
        except IntegrityError:
            if _overtaken(checkpoint, uidvalidity, batch[-1]):
                raise _Overtaken() from None
            # Another mailbox's poller stored one of these messages after we looked (on
            # PostgreSQL both transactions run at once): the next attempt sees its row and
            # records a copy instead.
            if attempt == STORE_ATTEMPTS:
                raise
    report.new += stored.new
    report.duplicates += stored.duplicates


def _overtaken(checkpoint, uidvalidity, uid):
    """Whether another poller stored this UID (a unique index refused ours)."""
    stored = (FolderCheckpoint.select(FolderCheckpoint.last_uid, FolderCheckpoint.uidvalidity)
              .where(FolderCheckpoint.id == checkpoint.id).first())
    return stored is None or stored.uidvalidity != uidvalidity or stored.last_uid >= uid


def _advance(checkpoint, uidvalidity, uid, first_sync, count):
    """Move the checkpoint to `uid`, inside the batch's transaction; only forward."""
    values = {"last_uid": uid, "updated_at": utcnow()}
    if first_sync:
        values["done"] = FolderCheckpoint.done + count
    moved = (FolderCheckpoint.update(**values)
             .where((FolderCheckpoint.id == checkpoint.id)
                    & (FolderCheckpoint.uidvalidity == uidvalidity)
                    & (FolderCheckpoint.last_uid < uid))
             .execute())
    if moved != 1:
        raise _Overtaken()
    checkpoint.last_uid = uid
    if first_sync:
        checkpoint.done += count


def _delete(client, uids):
    """Only with `delete_after_import`, after the commit: remove the filed messages."""
    client.delete_messages(uids)
    if b"UIDPLUS" in client.capabilities():
        client.uid_expunge(uids)
    else:
        client.expunge()
