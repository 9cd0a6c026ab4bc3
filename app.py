"""Accountable: the application factory, its configuration and its commands.

    flask --app app run          # the web app
    flask --app app db upgrade   # apply migrations
"""
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask

CONFIG_KEYS = {
    # name: how to read it from the environment
    "SECRET_KEY": str, "DATABASE_URL": str, "BASE_URL": str,
    "MAIL_SERVER": str, "MAIL_PORT": int, "MAIL_USERNAME": str, "MAIL_PASSWORD": str,
    "MAIL_USE_TLS": "bool", "MAIL_USE_SSL": "bool", "MAIL_DEFAULT_SENDER": str,
    "IMAP_HOST": str, "IMAP_PORT": int, "IMAP_USERNAME": str, "IMAP_PASSWORD": str,
    "IMAP_SSL": "bool", "IMAP_FOLDER": str, "IMAP_IDLE": "bool", "REDIS_URL": str,
    "MAIL_REPLY_TO": str, "MAIL_PLUS_ADDRESSING": "bool", "MAIL_MESSAGE_ID_DOMAIN": str,
    "QUOTE_LINK_DAYS": int,
    "SESSION_IDLE_MINUTES": int, "DEFAULT_TIMEZONE": str, "HUEY_IMMEDIATE": "bool",
}


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{Path(app.instance_path) / 'accountable.db'}",
        BASE_URL="http://127.0.0.1:5000",
        MAIL_SERVER="", MAIL_PORT=25, MAIL_USE_TLS=False, MAIL_USE_SSL=False,
        MAIL_DEFAULT_SENDER="accountable@localhost",
        # Replies come back to the shared mailbox (MAIL_DEFAULT_SENDER when empty), with a
        # +token per document when the mailbox supports plus-addressing. Message-IDs are on
        # MAIL_MESSAGE_ID_DOMAIN, by default the domain of MAIL_DEFAULT_SENDER (never the host).
        MAIL_REPLY_TO="", MAIL_PLUS_ADDRESSING=False, MAIL_MESSAGE_ID_DOMAIN="",
        QUOTE_LINK_DAYS=60,  # the customer's accept/decline link; never beyond the validity
        IMAP_HOST="", IMAP_PORT=993, IMAP_SSL=True, IMAP_FOLDER="INBOX",
        REDIS_URL="",
        HUEY_SQLITE_PATH=str(Path(app.instance_path) / "jobs.db"),
        HUEY_IMMEDIATE=False,
        DEFAULT_TIMEZONE="Europe/Amsterdam",
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE="UTC",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        SESSION_IDLE_MINUTES=8 * 60,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session: a form left open over lunch still saves
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        API_PAGE_SIZE=50,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        _read_environment(app)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    from models.db import open_database
    open_database(app.config["DATABASE_URL"])

    from routes import init_app as init_routes
    init_routes(app)

    import jobs
    jobs.init_app(app)

    _register_commands(app)
    return app


def _read_environment(app):
    for key, kind in CONFIG_KEYS.items():
        raw = os.environ.get(key)
        if raw is None or raw == "":
            continue
        if kind == "bool":
            app.config[key] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif kind is int:
            app.config[key] = int(raw)
        else:
            app.config[key] = raw


def _instance_secret(app):
    """A random key kept in instance/, so a fresh install is safe without configuration."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_commands(app):
    from models import db as database
    from models.migrations import migrate_up

    db_group = click.Group("db", help="The database schema.")
    app.cli.add_command(db_group)

    @db_group.command("upgrade")
    def db_upgrade():
        """Apply the pending migrations."""
        with database.connection_context():
            applied = migrate_up()
        click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}.")

    users_group = click.Group("users", help="People who log in.")
    app.cli.add_command(users_group)

    @users_group.command("create")
    @click.argument("email")
    @click.option("--role", required=True, help="account_manager, inside_sales, manager, finance or admin")
    @click.option("--password", required=True)
    @click.option("--name", default=None, help="Full name (defaults to the part before @).")
    @click.option("--language", default="en")
    def users_create(email, role, password, name, language):
        """Create a user who can log in."""
        from models.users import create_user
        from models.validation import Invalid
        with database.connection_context():
            try:
                user = create_user(email, name or email.split("@")[0], role, password, language)
            except Invalid as invalid:
                for field, message in invalid.errors.items():
                    click.echo(f"{field}: {message}", err=True)
                sys.exit(1)
        click.echo(f"Created {user.email} ({user.role}).")

    tokens_group = click.Group("tokens", help="Personal API tokens.")
    app.cli.add_command(tokens_group)

    @tokens_group.command("create")
    @click.argument("email")
    @click.option("--name", default="", help="What the token is for.")
    def tokens_create(email, name):
        """Create an API token for a user; the token is printed once, alone on the last line."""
        from models.users import ApiToken, User
        with database.connection_context():
            user = User.by_email(email)
            if user is None:
                click.echo(f"No user with the email address {email}.", err=True)
                sys.exit(1)
            token = ApiToken.issue(user, name)
        click.echo(f"Token for {user.email}; use it as 'Authorization: Bearer <token>':")
        click.echo(token)

    demo_group = click.Group("demo", help="Demonstration data.")
    app.cli.add_command(demo_group)

    @demo_group.command("load")
    @click.option("--if-empty", is_flag=True, help="Only when there are no accounts yet.")
    def demo_load(if_empty):
        """Load demo users, accounts, contacts, timelines and tasks."""
        from models.demo import load_demo
        with database.connection_context():
            result = load_demo(only_if_empty=if_empty)
        click.echo(result)

    mail_group = click.Group("mail", help="Inbound mail: the mailboxes the poller reads.")
    app.cli.add_command(mail_group)

    @mail_group.command("poll")
    @click.option("--once", is_flag=True, help="One pass over every active mailbox, then stop.")
    @click.option("--mailbox", "mailbox_id", type=int, default=None,
                  help="Only the mailbox with this id.")
    def mail_poll(once, mailbox_id):
        """Read new mail and file it; prints per folder what it did."""
        import time

        from mail.poller import poll_all, poll_mailbox
        from models.inbound import Mailbox

        def one_pass(due_only):
            with database.connection_context():
                if mailbox_id is None:
                    return poll_all(due_only=due_only, config=app.config)
                mailbox = Mailbox.get_or_none(Mailbox.id == mailbox_id)
                if mailbox is None:
                    click.echo(f"No mailbox with the id {mailbox_id}.", err=True)
                    sys.exit(1)
                return [poll_mailbox(mailbox)]

        while True:
            reports = one_pass(due_only=not once)
            for report in reports:
                for line in report.lines():
                    click.echo(line)
            if once:
                if not reports:
                    click.echo("No active mailbox: add one under Mailboxes or set IMAP_HOST.")
                sys.exit(0 if all(r.ok for r in reports) else 1)
            time.sleep(60)

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True)
    def worker(workers):
        """Run the background job worker (periodic jobs included)."""
        import jobs
        jobs.run_worker(workers)

    @app.cli.command("backup")
    @click.argument("path")
    def backup(path):
        """Write a consistent copy of the database to PATH."""
        from models.backup import backup_database
        with database.connection_context():
            click.echo(backup_database(path))
