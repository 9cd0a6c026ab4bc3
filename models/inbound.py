"""Inbound mail: the mailboxes we read, how far we have read each folder, and who sent what.

The poller (mail/poller.py) stores each new message, its match and the folder's new
checkpoint in one transaction, so after a crash the next run continues exactly where the
last committed transaction ended: every message is filed once.
"""
import re

from flask_babel import lazy_gettext as _l
from peewee import (BigIntegerField, BooleanField, CharField, DateTimeField, ForeignKeyField,
                    IntegerField, TextField, fn)

from .accounts import Account
from .db import BaseModel, utcnow
from .emails import Email
from .users import User
from .validation import Checker

SECURITY = ("ssl", "starttls", "none")
SECURITY_LABELS = {"ssl": _l("SSL/TLS (usually port 993)"),
                   "starttls": _l("STARTTLS (usually port 143)"),
                   "none": _l("None (only for a server on this machine)")}
MAILBOX_STATUSES = {"new": _l("Not polled yet"), "ok": _l("Working"), "error": _l("Failing")}
HOST_RE = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,253}$")


class Mailbox(BaseModel):
    """An IMAP mailbox to read (the shared sales address, a personal one)."""
    name = CharField()
    host = CharField()
    port = IntegerField(default=993)
    security = CharField(default="ssl")          # one of SECURITY
    username = CharField()
    password = CharField(default="")            # never shown again once saved
    folders = TextField(default="INBOX")         # comma-separated
    active = BooleanField(default=True)
    since_days = IntegerField(default=90)        # the first sync reads only this far back
    delete_after_import = BooleanField(default=False)  # off unless an admin turns it on
    from_config = BooleanField(default=False)    # created from the IMAP_* settings
    status = CharField(default="new")            # new, ok, error
    last_error = TextField(default="")
    last_poll_at = DateTimeField(null=True)
    failures = IntegerField(default=0)           # consecutive failed polls, for the backoff
    next_poll_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    def __str__(self):
        return self.name

    @property
    def folder_list(self):
        return [f.strip() for f in self.folders.split(",") if f.strip()]

    @property
    def status_label(self):
        return MAILBOX_STATUSES.get(self.status, self.status)


class FolderCheckpoint(BaseModel):
    """How far one folder has been read: its UIDVALIDITY and the highest UID stored."""
    mailbox = ForeignKeyField(Mailbox, backref="checkpoints", on_delete="CASCADE")
    folder = CharField()
    # UIDVALIDITY and UIDs are unsigned 32-bit numbers: beyond PostgreSQL's INTEGER.
    uidvalidity = BigIntegerField()
    last_uid = BigIntegerField(default=0)
    # First sync of a large folder: how many messages it had and how many are done.
    total = IntegerField(default=0)
    done = IntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("mailbox", "folder"), True),)


class InboundCopy(BaseModel):
    """Where a stored message was seen: one message in two folders or mailboxes is one Email."""
    email = ForeignKeyField(Email, backref="copies", on_delete="CASCADE")
    mailbox = ForeignKeyField(Mailbox, backref="copies", on_delete="CASCADE")
    folder = CharField()
    uidvalidity = BigIntegerField()
    uid = BigIntegerField()

    class Meta:
        indexes = ((("mailbox", "folder", "uidvalidity", "uid"), True),)


def pending_by_mailbox(mailbox_ids):
    """(mailbox id, how many of its messages are stored and not yet filed) for these
    mailboxes; the poller's second step files them (mail/inbound.py)."""
    return (InboundCopy.select(InboundCopy.mailbox, fn.COUNT(fn.DISTINCT(InboundCopy.email)))
            .join(Email)
            .where(InboundCopy.mailbox.in_(mailbox_ids) & (Email.inbound_state == "pending"))
            .group_by(InboundCopy.mailbox)
            .tuples())


class SenderRule(BaseModel):
    """A sender a person assigned once from the inbox: their mail goes to this account."""
    address = CharField(unique=True)
    account = ForeignKeyField(Account, backref="sender_rules", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


def clean_mailbox(data, mailbox=None):
    """Validate a mailbox form; an empty password keeps the stored one."""
    check = Checker(data)
    check.text("name", required=True, max_length=100)
    check.text("host", required=True, max_length=253)
    check.integer("port", required=True, minimum=1)
    check.choice("security", SECURITY)
    check.text("username", required=True, max_length=200)
    check.text("password", max_length=500)
    check.text("folders", max_length=1000)
    check.integer("since_days", required=True, minimum=1)
    check.boolean("active")
    check.boolean("delete_after_import")
    values = check.values
    if values.get("host") and not HOST_RE.match(values["host"]):
        check.fail("host", _l("Enter the server's name, like imap.example.com."))
    if values.get("port") and values["port"] > 65535:
        check.fail("port", _l("A port is a number from 1 to 65535."))
    if values.get("since_days") and values["since_days"] > 3650:
        check.fail("since_days", _l("At most 3650 days (ten years)."))
    if "folders" in values:
        folders = [f.strip() for f in values["folders"].split(",") if f.strip()]
        values["folders"] = ",".join(dict.fromkeys(folders)) or "INBOX"
    if not values.get("password"):
        if mailbox is None or not mailbox.password:
            check.fail("password", _l("Enter the password of this mailbox."))
        values.pop("password", None)    # left empty: the stored one stays
    return check.done()


def save_mailbox(values, mailbox=None):
    """Create or change a mailbox; a changed server or folder list is read from its checkpoints
    on (a new server renumbers its folders: the poller resynchronises without duplicates)."""
    if mailbox is None:
        return Mailbox.create(**values)
    for key, value in values.items():
        setattr(mailbox, key, value)
    mailbox.failures = 0
    mailbox.next_poll_at = None         # poll at the next run with the new settings
    mailbox.save()
    return mailbox
