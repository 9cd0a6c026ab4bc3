"""Inbound mail: the mailboxes we read, how far we have read each folder, and who sent what.

The poller (mail/poller.py) stores each new message, its match and the folder's new
checkpoint in one transaction, so after a crash the next run continues exactly where the
last committed transaction ended: every message is filed once.
"""
from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    TextField)

from .accounts import Account
from .db import BaseModel, utcnow
from .emails import Email
from .users import User

SECURITY = ("ssl", "starttls", "none")


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


class FolderCheckpoint(BaseModel):
    """How far one folder has been read: its UIDVALIDITY and the highest UID stored."""
    mailbox = ForeignKeyField(Mailbox, backref="checkpoints", on_delete="CASCADE")
    folder = CharField()
    uidvalidity = IntegerField()
    last_uid = IntegerField(default=0)
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
    uidvalidity = IntegerField()
    uid = IntegerField()

    class Meta:
        indexes = ((("mailbox", "folder", "uidvalidity", "uid"), True),)


class SenderRule(BaseModel):
    """A sender a person assigned once from the inbox: their mail goes to this account."""
    address = CharField(unique=True)
    account = ForeignKeyField(Account, backref="sender_rules", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
