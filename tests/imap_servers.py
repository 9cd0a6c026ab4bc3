"""Real IMAP servers for tests: pymap, and Dovecot when it is installed.

Each server runs as a child process on a free loopback port without TLS, with one user:

- `pymap_server`: `pymap … dict` (in-memory: everything is gone when it stops);
- `dovecot_server`: `/usr/sbin/dovecot -F` with a generated configuration in a temporary
  directory (passwd-file users, maildir under the same directory); skipped through
  `service_missing` when Dovecot is not installed (CI installs it and demands it);
- `imap_server`: the test runs once against each of them.

A server object offers `client()` (a logged-in IMAPClient), `append(raw, folder=…)`,
`create_folder`, `delete_folder`, and `stop()` / `start()` on the same port (Dovecot keeps its
mail across a restart; pymap does not). Registered in conftest.py through `pytest_plugins`.
"""
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mail_servers import free_port

USERNAME = "sales@example.com"
PASSWORD = "imap-secret"
DOVECOT = "/usr/sbin/dovecot"


def wait_until_listening(host, port, process=None, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the IMAP server exited with {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1) as conn:
                conn.settimeout(2)
                if conn.recv(200).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no IMAP server answered on {host}:{port} within {timeout}s")


class ImapServer:
    """A child-process IMAP server; subclasses say how to start it."""
    kind = ""

    def __init__(self, port=None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.username = USERNAME
        self.password = PASSWORD
        self.process = None
        self._admin = None    # one kept connection for appends and folder changes

    def command(self):
        raise NotImplementedError

    def start(self):
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until_listening(self.host, self.port, self.process)
        return self

    def stop(self):
        if self._admin is not None:
            try:
                self._admin.logout()
            except Exception:  # noqa: BLE001
                pass
            self._admin = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def client(self):
        from imapclient import IMAPClient
        client = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.login(self.username, self.password)
        return client

    def mailbox_values(self, **extra):
        """Fields of a Mailbox row reading this server."""
        return {"name": f"{self.kind} test", "host": self.host, "port": self.port,
                "security": "none", "username": self.username, "password": self.password,
                "folders": "INBOX", **extra}

    def admin(self):
        """The kept connection (pymap takes almost half a second per login)."""
        if self._admin is None:
            self._admin = self.client()
        return self._admin

    def append(self, raw, folder="INBOX", flags=(), when=None):
        """Put one message (bytes) into `folder`; its UID."""
        answer = self.admin().append(folder, raw, flags=flags, msg_time=when)
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        if "APPENDUID" in text:
            return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]"))
        return None

    def append_many(self, messages, folder="INBOX"):
        for raw in messages:
            self.admin().append(folder, raw)

    def create_folder(self, name):
        self.admin().create_folder(name)

    def delete_folder(self, name):
        self.admin().delete_folder(name)


class PymapServer(ImapServer):
    kind = "pymap"

    def command(self):
        pymap = Path(sys.executable).with_name("pymap")
        return [str(pymap), "--host", self.host, "--port", str(self.port), "--no-tls", "dict",
                "--demo-user", self.username, "--demo-password", self.password]


class DovecotServer(ImapServer):
    kind = "dovecot"

    def __init__(self, port=None):
        super().__init__(port)
        # Not pytest's tmp_path: that is private to the test user, and Dovecot drops privileges.
        self.root = Path(tempfile.mkdtemp(prefix="accountable-dovecot-"))
        self.root.chmod(0o755)
        self._configure()

    def _configure(self):
        root = self.root
        if os.getuid() == 0:
            # Root runs the master; mail is read as nobody, logins as Dovecot's own users.
            mail_user = pwd.getpwnam("nobody")
            internal, login = "dovecot", "dovenull"
        else:
            mail_user = pwd.getpwuid(os.getuid())
            internal = login = mail_user.pw_name
        for name in ("run", "state", "mail"):
            (root / name).mkdir(exist_ok=True)
        os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        (root / "users").write_text(
            f"{self.username}:{{PLAIN}}{self.password}:{mail_user.pw_uid}:{mail_user.pw_gid}"
            f"::{root / 'mail' / 'home'}::\n")
        (root / "dovecot.conf").write_text(f"""\
base_dir = {root / 'run'}
state_dir = {root / 'state'}
log_path = {root / 'dovecot.log'}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {min(mail_user.pw_uid, 500)}
mail_location = maildir:{root / 'mail' / 'home' / 'Maildir'}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = {root / 'users'}
}}
userdb {{
  driver = passwd-file
  args = {root / 'users'}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")

    def command(self):
        return [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")]

    def log(self):
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _pymap_available():
    return Path(sys.executable).with_name("pymap").exists()


def start_server(kind):
    """A started server of `kind` ("pymap" or "dovecot"), or a skip when it is missing."""
    from conftest import service_missing
    if kind == "pymap":
        if not _pymap_available():
            service_missing("pymap is not installed (pip install -r requirements.txt)")
        return PymapServer().start()
    if not os.path.exists(DOVECOT):
        service_missing("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer()
    try:
        return server.start()
    except RuntimeError as error:
        log = server.log()
        server.remove()
        raise RuntimeError(f"{error}\n{log}") from None


def _finish(server):
    if isinstance(server, DovecotServer):
        server.remove()
    else:
        server.stop()


@pytest.fixture
def pymap_server():
    server = start_server("pymap")
    yield server
    _finish(server)


@pytest.fixture
def dovecot_server():
    server = start_server("dovecot")
    yield server
    _finish(server)


@pytest.fixture(params=["pymap", "dovecot"])
def imap_server(request):
    """The test runs against pymap and against Dovecot."""
    server = start_server(request.param)
    yield server
    _finish(server)


class DroppingProxy:
    """A TCP relay in front of a server that can cut every connection after the server has
    sent `drop_after` bytes: a connection lost in the middle of a FETCH, for real."""

    def __init__(self, target_host, target_port):
        import threading
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.drop_after = None
        self.dropped = threading.Event()
        self.sent_down = 0
        self._sockets = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source, sink, downstream):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if downstream and self.drop_after is not None:
                    room = self.drop_after - self.sent_down
                    if room <= len(data):
                        sink.sendall(data[:max(room, 0)])
                        self.cut()
                        return
                    self.sent_down += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        """Close every relayed connection now (and accept new ones as before)."""
        self.dropped.set()
        self.drop_after = None
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
        self._sockets = []

    def close(self):
        self._closed = True
        self.cut()
        self.listener.close()
