"""IMAP IDLE: a new customer email filed within seconds where the server supports IDLE.

The once-a-minute UID poll (jobs.poll_mailboxes → mail/poller.py) stays the source of truth.
A watcher files nothing itself: it only notices that its folder changed and asks for a poll
of the mailbox (`on_new_mail(mailbox_id)`; the worker queues jobs' `poll_mailbox`). The
poll files what is new exactly once through the folder's checkpoint, however many polls run
at the same time, so a spurious or doubled trigger costs one quick poll and nothing more.

One `FolderWatcher` (one thread, one connection) per folder of every active mailbox:

1. connect and sign in (the steps of mail/poller.connect), check the IDLE capability —
   without it the watcher logs once and ends; the minute poll covers that folder — and
   EXAMINE the folder (read-only);
2. IDLE, and look for the server's news in short slices (CHECK_SECONDS), so a stop is seen
   promptly. New mail (EXISTS, RECENT) → DONE, NOOP, ask for a poll, NOOP again until
   nothing more came in meanwhile, IDLE again;
3. every RENEW_SECONDS: DONE, NOOP, IDLE again. RFC 2177 allows 29 minutes, but NAT boxes
   and servers drop quiet connections sooner, and silently: a renewal proves the connection
   alive or fails, and the watcher reconnects. A socket that turns readable with nothing to
   read (the server hung up) is checked the same way at once;
4. any failure (refused, timeout, lost connection, BYE, wrong password, missing folder) is
   logged; the watcher pauses (FIRST_PAUSE, doubling up to MAX_PAUSE; a connection that
   lived through a renewal starts the count again) and reconnects. After every reconnect it
   asks for one poll: mail may have arrived while it was away.

`IdleSupervisor` keeps one watcher per (active mailbox, folder): it reads the mailboxes at
start and every REFRESH_SECONDS, starts watchers for new or re-activated mailboxes and
folders, and stops those of removed or deactivated ones or whose connection settings
changed. `jobs.run_worker` runs it beside the huey consumer; the web app never starts it.
Threads: the supervisor plus one per watched folder. Stopping sets an event every loop
looks at (a pause, an IDLE slice) and cuts a connection that is waiting for the server.

A known gap of imapclient's IDLE: an EXISTS that reaches us in the same packet as the
server's "+ idling" stays in the reader's buffer until the next event or renewal. The NOOP
before every IDLE makes that window one round trip wide, and the minute poll covers it.
"""
import logging
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from imapclient import IMAPClient

from models.db import db
from models.inbound import Mailbox

from .poller import TIMEOUT, FolderMissing, close, describe

log = logging.getLogger(__name__)

RENEW_SECONDS = 8 * 60     # DONE, NOOP, IDLE again: well within the 10 minutes NATs allow
CHECK_SECONDS = 1.0        # one idle_check slice: how soon a stop is seen
FIRST_PAUSE = 5            # seconds before the first reconnect …
MAX_PAUSE = 5 * 60         # … doubling up to this
REFRESH_SECONDS = 60       # the supervisor rereads the mailboxes
JOIN_SECONDS = 10          # how long stop() waits for a thread


class IdleUnsupported(Exception):
    """The server does not offer IDLE: the minute poll covers this folder."""


class ServerClosed(ConnectionError):
    """The server said BYE, or hung up while we were idling."""


@dataclass(frozen=True)
class Target:
    """One folder of one mailbox and what it takes to connect to it. Two targets differ when
    anything the connection depends on differs: the supervisor then restarts the watcher."""
    mailbox_id: int
    folder: str
    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    mailbox_name: str = field(default="", compare=False)

    @classmethod
    def all_of(cls, mailbox):
        return [cls(mailbox.id, folder, mailbox.host, mailbox.port, mailbox.security,
                    mailbox.username, mailbox.password, mailbox.name)
                for folder in mailbox.folder_list]

    @property
    def key(self):
        return (self.mailbox_id, self.folder)

    def __str__(self):
        return f"{self.mailbox_name or self.mailbox_id} {self.folder}"


class FolderWatcher:
    """IDLE on one folder in a thread of its own; `on_new_mail(mailbox_id)` when it changed.

    The counters and events are there for the logs and the tests: `attempts` (connections
    tried), `connects` (sessions that reached the folder), `renewals`, `triggers` (polls
    asked for), `pauses` (the last pauses, in seconds), `idling` (set while in IDLE).
    """

    def __init__(self, target, on_new_mail, renew_seconds=RENEW_SECONDS,
                 check_seconds=CHECK_SECONDS, first_pause=FIRST_PAUSE, max_pause=MAX_PAUSE,
                 timeout=TIMEOUT):
        self.target = target
        self.on_new_mail = on_new_mail
        self.renew_seconds = renew_seconds
        self.check_seconds = check_seconds
        self.first_pause = first_pause
        self.max_pause = max_pause
        self.timeout = timeout
        self.attempts = self.connects = self.renewals = self.triggers = 0
        self.pauses = deque(maxlen=20)
        self.state = "new"          # connecting, idling, pausing, unsupported, stopped
        self.last_error = ""
        self._renewed = False       # this session lived through a renewal
        self.idling = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._client = None         # the connection, for stop() to cut

    # --- running and stopping ---------------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self.run, name=f"idle {self.target}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Ask the watcher to end; `join` waits for it. An idling watcher sees it within
        `check_seconds` and leaves politely; one waiting for the server (a login held back,
        a slow answer) has its connection cut."""
        self._stop.set()
        client = self._client
        if client is not None and not self.idling.is_set():
            _cut(client)

    def join(self, timeout=JOIN_SECONDS):
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self):
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self):
        return self._stop.is_set()

    def run(self):
        """Connect, IDLE, reconnect after a pause — until stopped or IDLE is unsupported."""
        failures = 0
        try:
            while not self.stopping:
                self.attempts += 1
                self.state = "connecting"
                try:
                    client = self._open()
                except IdleUnsupported:
                    self.state = "unsupported"
                    log.info("IDLE: %s: the server does not offer IDLE; the minute poll "
                             "reads this folder", self.target)
                    return
                except Exception as error:  # noqa: BLE001 — every failure waits and retries
                    if self.stopping:
                        return
                    failures += 1
                    self._pause(failures, error)
                    continue
                try:
                    self._session(client)
                except Exception as error:  # noqa: BLE001
                    if self.stopping:
                        return
                    # A connection that lived through a renewal was a good one: the pauses
                    # start small again.
                    failures = (0 if self._renewed else failures) + 1
                    self._pause(failures, error)
                finally:
                    self._close(client, in_idle=self.idling.is_set())
                    self.idling.clear()
                    self._client = None
        finally:
            if self.state != "unsupported":
                self.state = "stopped"

    def _open(self):
        """A signed-in connection with the folder selected read-only, IDLE offered.

        The steps of mail/poller.connect (TLS or STARTTLS, then LOGIN), taken one by one so
        that stop() can reach the connection before LOGIN: a server may hold a refused login
        back for a long time (Dovecot: up to 15 seconds after repeated failures)."""
        t = self.target
        context = ssl.create_default_context() if t.security in ("ssl", "starttls") else None
        client = IMAPClient(t.host, port=t.port, ssl=t.security == "ssl", ssl_context=context,
                            timeout=self.timeout)
        self._client = client
        try:
            if self.stopping:
                raise ConnectionAbortedError("stopping")
            if t.security == "starttls":
                client.starttls(context)
            client.login(t.username, t.password)
            if b"IDLE" not in client.capabilities():
                raise IdleUnsupported()
            if not client.folder_exists(t.folder):
                raise FolderMissing(t.folder)
            client.select_folder(t.folder, readonly=True)
        except BaseException:
            self._client = None
            self._close(client)
            raise
        return client

    def _pause(self, failures, error):
        """Log the failure and wait a growing pause (a stop ends it at once)."""
        text = describe(error, self.target.host, self.target.port)
        if text != self.last_error:
            log.warning("IDLE: %s: %s", self.target, text)
        else:
            log.info("IDLE: %s: again: %s", self.target, text)
        self.last_error = text
        pause = min(self.first_pause * 2 ** (failures - 1), self.max_pause)
        self.pauses.append(pause)
        self.state = "pausing"
        self._stop.wait(pause)

    @staticmethod
    def _close(client, in_idle=False):
        """Leave politely when the server still listens; never wait long for it."""
        try:
            client.socket().settimeout(2)
            if in_idle:
                client.idle_done()
        except Exception:  # noqa: BLE001 — close() below drops it if it must
            pass
        close(client)

    # --- one session ------------------------------------------------------------------

    def _session(self, client):
        """IDLE on the selected folder until stopped (returns, still in IDLE: `_close`
        ends it) or a failure (raises)."""
        self._renewed = False
        self.connects += 1
        self.state = "idling"
        log.info("IDLE: %s: watching", self.target)
        if self.attempts > 1:
            self._trigger("connected again (mail may have come meanwhile)")
        with selectors.DefaultSelector() as selector:
            selector.register(client.socket(), selectors.EVENT_READ)
            self._idle_again(client, client.noop()[1])
            renew_at = time.monotonic() + self.renew_seconds
            while not self.stopping:
                wait = min(self.check_seconds, max(renew_at - time.monotonic(), 0))
                if selector.select(wait):
                    responses = client.idle_check(timeout=0)
                    if responses and not _says_bye(responses) and not _new_mail(responses):
                        continue                # flags changed, expunges: not our business
                    # New mail, a BYE, or readable with nothing to read (the server hung
                    # up, or TLS housekeeping): out of IDLE, which also tells which.
                elif time.monotonic() < renew_at:
                    continue
                else:
                    responses = []
                    self.renewals += 1
                    self._renewed = True
                self._cycle(client, responses)
                renew_at = time.monotonic() + self.renew_seconds

    def _cycle(self, client, responses):
        """Out of IDLE — DONE and NOOP, which fail on a dead connection — and in again."""
        _raise_on_bye(responses)
        self.idling.clear()
        responses = list(responses) + client.idle_done()[1] + client.noop()[1]
        self._idle_again(client, responses)

    def _idle_again(self, client, responses):
        """While the server reports new mail, ask for a poll and look again (NOOP: what came
        in meanwhile); then IDLE."""
        while _new_mail(responses):
            _raise_on_bye(responses)
            self._trigger("new mail")
            responses = client.noop()[1]
        _raise_on_bye(responses)
        client.idle()
        self.idling.set()

    def _trigger(self, why):
        self.triggers += 1
        log.info("IDLE: %s: %s; polling the mailbox", self.target, why)
        try:
            self.on_new_mail(self.target.mailbox_id)
        except Exception:  # noqa: BLE001 — the minute poll still runs; keep watching
            log.exception("IDLE: %s: asking for a poll failed", self.target)


def _cut(client):
    """Shut the connection's socket from another thread: a blocked read returns at once.
    The plain socket's shutdown, so a TLS object is not pulled from under its reader."""
    try:
        socket.socket.shutdown(client.socket(), socket.SHUT_RDWR)
    except (OSError, AttributeError, ValueError):
        pass                    # not connected yet, or already gone


def _new_mail(responses):
    return any(len(r) >= 2 and isinstance(r[0], int)
               and (r[1] == b"EXISTS" or (r[1] == b"RECENT" and r[0] > 0))
               for r in responses)


def _says_bye(responses):
    return any(r and r[0] == b"BYE" for r in responses)


def _raise_on_bye(responses):
    if _says_bye(responses):
        raise ServerClosed("the server said goodbye (BYE)")


# ---------------------------------------------------------------------------------------
# The supervisor: a watcher per folder of every active mailbox

class IdleSupervisor:
    """Starts and stops watchers as mailboxes come, go and change (see the module's
    docstring). `watcher_options` go to every FolderWatcher."""

    def __init__(self, app, on_new_mail, refresh_seconds=REFRESH_SECONDS, **watcher_options):
        self.app = app
        self.on_new_mail = on_new_mail
        self.refresh_seconds = refresh_seconds
        self.watcher_options = watcher_options
        self.refreshes = 0
        self._watchers = {}            # (mailbox_id, folder) → FolderWatcher
        self._lock = threading.Lock()  # guards _watchers: the tests read it from outside
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="idle supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=JOIN_SECONDS):
        """End the supervisor and every watcher; wait for them (at most about `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            watchers = list(self._watchers.values())
            self._watchers.clear()
        _stop_all(watchers, timeout)

    def watchers(self):
        """The running watchers by (mailbox_id, folder): a copy."""
        with self._lock:
            return dict(self._watchers)

    @property
    def alive(self):
        return self._thread is not None and self._thread.is_alive()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 — the database may be away; try next round
                log.exception("IDLE: reading the mailboxes failed; the watchers stay as they are")
            self._stop.wait(self.refresh_seconds)

    def refresh(self):
        """Bring the watchers in line with the active mailboxes in the database."""
        wanted = {target.key: target for target in self._active_targets()}
        with self._lock:
            current = dict(self._watchers)
        # Gone, deactivated, changed — or a thread that ended for any reason but a server
        # without IDLE (that one is asked again only when its settings change).
        ending = [watcher for key, watcher in current.items()
                  if wanted.get(key) != watcher.target
                  or (not watcher.alive and watcher.state != "unsupported")]
        _stop_all(ending)
        with self._lock:
            for watcher in ending:
                self._watchers.pop(watcher.target.key, None)
            for key, target in wanted.items():
                if key not in self._watchers and not self._stop.is_set():
                    self._watchers[key] = FolderWatcher(target, self.on_new_mail,
                                                        **self.watcher_options).start()
        self.refreshes += 1

    def _active_targets(self):
        with self.app.app_context(), db.connection_context():
            mailboxes = list(Mailbox.select().where(Mailbox.active).order_by(Mailbox.id))
        return [target for mailbox in mailboxes for target in Target.all_of(mailbox)]


def _stop_all(watchers, timeout=JOIN_SECONDS):
    """Stop them all at once, then wait for each."""
    for watcher in watchers:
        watcher.stop()
    deadline = time.monotonic() + timeout
    for watcher in watchers:
        watcher.join(max(deadline - time.monotonic(), 0.1))
        if watcher.alive:
            log.warning("IDLE: %s did not stop within %s seconds", watcher.target, timeout)
