"""Real mail servers for tests: an aiosmtpd SMTP server on a free loopback port.

`smtp_server` starts one for the test and points the app's MAIL_SERVER/MAIL_PORT at it;
it keeps every message it accepts (`.messages`, parsed with the modern email policy),
can be stopped and started again on the same port, told to answer DATA with a refusal
(`.reply = "451 …"`), or to hold its answer to DATA for a while (`.hold_seconds`).
Registered in conftest.py with `pytest_plugins = ["mail_servers"]`.
"""
import asyncio
import email
import socket
import threading
import time
from email import policy

import pytest


class Collector:
    """The aiosmtpd handler: keeps what it accepts, or refuses as told."""

    def __init__(self):
        self.messages = []
        self.envelopes = []
        self.reply = None          # e.g. "451 4.3.0 Try again later" or "554 5.7.1 Rejected"
        self.hold_seconds = 0      # wait this long before answering DATA
        self.ok_reply = "250 2.0.0 Ok: queued"
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.received.set()
        if self.hold_seconds:
            await asyncio.sleep(self.hold_seconds)
        return self.ok_reply


class SmtpServer:
    def __init__(self, port):
        self.host = "127.0.0.1"
        self.port = port
        self.handler = Collector()
        self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def start(self):
        from aiosmtpd.controller import Controller
        self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                     ready_timeout=10)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.messages) >= count


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def point_mail_at(app, host, port):
    """Configure the app's Flask-Mail for `host:port` (the state is read at init_app)."""
    from routes import mail
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_SUPPRESS_SEND=False,
                      MAIL_USE_TLS=False, MAIL_USE_SSL=False)
    mail.init_app(app)


@pytest.fixture
def smtp_server(app):
    """A running SMTP server for this test, with the app's mail pointed at it."""
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError:
        from conftest import service_missing
        service_missing("aiosmtpd is not installed (pip install -r requirements.txt)")
    server = SmtpServer(free_port()).start()
    point_mail_at(app, server.host, server.port)
    yield server
    server.stop()


# --- quotes ready to send, for the mail tests and the benchmark -----------------------------

GREEK_LINES = [
    # description, quantity, unit, unit price, discount %, VAT %
    ("Δρύινο τραπέζι συνεδριάσεων", "2", "τεμ.", "1250.00", "10", "24"),
    ("Εγκατάσταση και συναρμολόγηση", "6", "ώρες", "45.50", "0", "24"),
    ("Βιβλίο οδηγιών", "3", "τεμ.", "12.00", "0", "6"),
]
ENGLISH_LINES = [
    ("Oak meeting table", "2", "pc", "1250.00", "10", "21"),
    ("Installation and assembly", "6", "hours", "45.50", "0", "21"),
    ("Care guide", "3", "pc", "12.00", "0", "9"),
]


def sendable_quote(author, language="en", lines=None, email="anna@devries.example",
                   account=None, approver=None):
    """An approved quote for a contact with an email address, in `language`, ready to send."""
    from decimal import Decimal

    from conftest import make_account, make_contact, make_user
    from models.quotes import QuoteLine, approve, create_quote, submit
    account = account or make_account(author, name="Ξυλουργεία Παπαδόπουλος"
                                      if language == "el" else "Bakkerij de Vries",
                                      language=language)
    contact = make_contact(account, last_name="Papadopoulou" if language == "el" else "Jansen",
                           emails=email, language=language)
    quote = create_quote(account, author, contact)
    rows = lines or (GREEK_LINES if language == "el" else ENGLISH_LINES)
    for position, (description, quantity, unit, price, discount, vat) in enumerate(rows, 1):
        QuoteLine.create(quote=quote, position=position, description=description, unit=unit,
                         quantity=Decimal(quantity), unit_price=Decimal(price),
                         discount_pct=Decimal(discount), vat_rate=Decimal(vat),
                         cost_price=Decimal(price) * Decimal("0.5"))
    submit(quote, author)
    if quote.status == "awaiting_approval":
        approver = approver or make_user(f"approver{quote.id}@example.com", role="manager")
        approve(quote, approver, "Approved for the test")
    assert quote.status == "approved", quote.status
    return quote
