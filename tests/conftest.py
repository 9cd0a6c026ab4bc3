"""Shared fixtures: an app on a fresh, migrated database; clients; users; logging in.

SQLite by default (a temporary file per test session, emptied between tests).
With TEST_DATABASE_URL=postgresql://… the same tests run in a schema of their own
on that server, dropped at the end.
"""
import datetime
import hashlib
import os
import re
import uuid

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from app import create_app
from models import ALL_MODELS, db
from models.db import is_postgres
from models.migrations import migrate_up
from models.users import User

pytest_plugins = ["mail_servers", "imap_servers"]

SECRET = "test-secret-key"
PASSWORD = "correct horse battery"
REQUIRE_SERVICES = os.environ.get("ACCOUNTABLE_REQUIRE_SERVICES") == "1"


def service_missing(reason):
    """Skip a test whose real service is absent, or fail when CI demands every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    import psycopg2
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {schema} CASCADE")
    conn.close()


@pytest.fixture(scope="session")
def migrated(database_url):
    app = create_app(_config(database_url))
    with app.app_context(), db.connection_context():
        migrate_up()
    db.close_all()
    return database_url


def _config(database_url, **extra):
    return {"TESTING": True, "SECRET_KEY": SECRET, "DATABASE_URL": database_url,
            "HUEY_IMMEDIATE": True, "BASE_URL": "http://localhost", "SERVER_NAME": None,
            "MAIL_DEFAULT_SENDER": "sales@example.com", **extra}


def _empty_tables():
    with db.connection_context():
        if is_postgres():
            names = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
            db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            with db.atomic():
                for model in reversed(ALL_MODELS):
                    model.delete().execute()


@pytest.fixture
def app(migrated, request):
    extra = getattr(request, "param", None) or {}
    app = create_app(_config(migrated, **extra))
    app.test_client_class = CsrfClient
    _empty_tables()
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield app
        if not db.is_closed():
            db.close()
    db.close_all()  # each test's app has its own connection pool; leave no connection open


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token with every state-changing request,
    the way base.html's script does; `csrf=False` sends none, to test the refusal."""

    def open(self, *args, csrf=True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        # A fresh application context per request, as in production: otherwise every request
        # of a test would share the test's `g` (and Flask-WTF's token cached in it).
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self):
        with self.session_transaction() as session:
            if "csrf_token" not in session:
                session["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
            raw = session["csrf_token"]
        return URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_HASH = {}


def make_user(email="am@example.com", role="account_manager", name=None, **fields):
    """A user with the shared test password (hashed once per run: argon2 is slow on purpose)."""
    if "hash" not in _HASH:
        probe = User(email="x", name="x", role="admin", password_hash="")
        probe.set_password(PASSWORD)
        _HASH["hash"] = probe.password_hash
    return User.create(email=email, name=name or email.split("@")[0].title(), role=role,
                       password_hash=_HASH["hash"], **fields)


def login(client, user):
    """Log `user` in on `client` the way a successful login does."""
    import time
    with client.session_transaction() as session:
        session.update(user_id=user.id, sv=user.session_version, seen=int(time.time()),
                       lang=user.language, _permanent=True)


@pytest.fixture
def user(app):
    return make_user()


@pytest.fixture
def manager(app):
    return make_user("lead@example.com", role="manager", name="Lena Lead")


@pytest.fixture
def admin(app):
    return make_user("admin@example.com", role="admin", name="Ada Admin")


@pytest.fixture
def auth(client, user):
    """The client, logged in as an account manager."""
    login(client, user)
    return client


def make_account(owner, name="Bakkerij de Vries", **fields):
    from models.accounts import clean_account, save_account
    data = {"name": name, "stage": "customer", "size_class": "M", "owner": str(owner.id),
            "language": "nl", "currency": "EUR", **fields}
    return save_account(clean_account(data))


def make_contact(account, last_name="Jansen", **fields):
    from models.contacts import Contact, clean_contact, save_contact
    data = {"first_name": "Anna", "last_name": last_name, **fields}
    return save_contact(clean_contact(data), Contact(account=account))


def make_entry(account, author, kind="call", days_ago=0, **fields):
    from models.db import utcnow
    from models.timeline import record_entry
    values = {"kind": kind, "occurred_at": utcnow() - datetime.timedelta(days=days_ago),
              "subject": fields.pop("subject", f"{kind} {days_ago} days ago"), **fields}
    return record_entry(account, author, values)


def text_of(response):
    """The visible text of an HTML response, tags stripped and whitespace folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def form_fields(html, form_id):
    """The values a browser would submit for the form with `form_id` (first option if none selected)."""
    from html.parser import HTMLParser

    class FormReader(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.inside, self.values, self.select, self.textarea = False, {}, None, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.inside = a.get("id") == form_id
            if not self.inside:
                return
            if tag == "input" and a.get("name"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                self.values[a["name"]] = a.get("value") or ""
            elif tag == "select":
                self.select = a.get("name")
            elif tag == "option" and self.select:
                if "selected" in a or self.select not in self.values:
                    self.values[self.select] = a.get("value") or ""
            elif tag == "textarea":
                self.textarea = a.get("name")
                self.values[self.textarea] = ""

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False
            elif tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

        def handle_data(self, data):
            if self.inside and self.textarea:
                self.values[self.textarea] += data

    reader = FormReader()
    reader.feed(html)
    return reader.values
