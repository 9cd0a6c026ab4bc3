"""Email, both ways: what we send (the outbox) and what comes back (the inbound poller).

Outgoing mail is stored — headers, links and the full MIME bytes — before any SMTP
conversation, and goes through these states:

    queued ──claim──▶ sending ──250──▶ sent
      ▲                 │ 4xx, refused, timeout before DATA: back to queued with backoff
      │                 │ 5xx: failed (a person may retry)
      └── retry ────────┘ killed after DATA began: uncertain (a person checks, "send again")

A message is never sent twice by the machine: a row whose DATA phase began but whose
outcome was never recorded is not resent automatically (it may have arrived).

`message_id` is stored without angle brackets; `in_reply_to` and `references` hold ids the
same way (references space-separated, oldest first), so the inbound matcher compares like
with like. Replies find their way back by those ids, or by `reply_token` (the `+token` of
the Reply-To address and the `[Q-2026-0007]` of the subject).
"""
import datetime

from flask_babel import lazy_gettext as _l
from peewee import (BlobField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    TextField)

from .accounts import Account
from .contacts import Contact
from .db import BaseModel, utcnow
from .quotes import Quote
from .timeline import TimelineEntry
from .users import User

DIRECTIONS = {"out": _l("Sent"), "in": _l("Received")}
STATUSES = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "uncertain": _l("Outcome unknown"),
    "received": _l("Received"),
}
# Where an inbound message ended up.
INBOUND_STATES = {
    "pending": _l("Stored, being filed"),   # the poller's first step (mail/inbound.py)
    "filed": _l("On the timeline"),
    "triage": _l("Waiting in the inbox"),
    "dismissed": _l("Dismissed"),
    "auto_reply": _l("Automatic reply"),
    "bounce": _l("Delivery failure"),
    "own_copy": _l("Copy of our own mail"),
    "unparsed": _l("Could not be read"),
    "rate_limited": _l("Held back: many automatic messages"),
}
# How an inbound message found its account (the timeline entry says so).
MATCHED_BY = {
    "thread": _l("reply in a thread"),
    "plus_token": _l("document number in the address"),
    "subject_token": _l("document number in the subject"),
    "sender": _l("sender is a contact"),
    "sender_rule": _l("remembered sender"),
    "domain": _l("sender's email domain"),
    "person": _l("assigned by a person"),
}
# A customer's reply to a quote email that may be turned into "accepted" or "declined".
QUOTE_REPLY_MATCHES = ("thread", "plus_token", "subject_token", "token")
# What a person may do with an outgoing message in each state.
RETRYABLE = ("queued", "failed")       # "retry now": nothing reached the server
RESENDABLE = ("uncertain",)            # "send again": it may have arrived; a person decided

BACKOFF_MINUTES = (1, 2, 4, 8, 16, 30)  # then every 30 minutes, for as long as it takes
CLAIM_MINUTES = 10                      # a worker's claim older than this was abandoned


class Email(BaseModel):
    direction = CharField(default="out")
    kind = CharField(default="")            # the use case: quote, quote_answer, …
    status = CharField(default="queued")
    message_id = CharField()                # ours for outgoing mail, without < >
    server_message_id = CharField(default="", index=True)  # the id the SMTP server reported, if it rewrote ours
    in_reply_to = CharField(default="")
    references = TextField(default="")
    reply_token = CharField(default="", index=True)   # q-2026-0007: the +token and subject tag
    from_addr = CharField(default="")
    to_addrs = TextField(default="")        # comma-separated
    cc_addrs = TextField(default="")
    reply_to = CharField(default="")
    subject = CharField(default="", max_length=998)
    body_text = TextField(default="")
    body_html = TextField(default="")       # outgoing: ours; inbound: sanitise before showing
    raw = BlobField(null=True)              # the full MIME message as sent or received
    account = ForeignKeyField(Account, null=True, backref="email_messages", on_delete="SET NULL")
    contact = ForeignKeyField(Contact, null=True, backref="email_messages", on_delete="SET NULL")
    quote = ForeignKeyField(Quote, null=True, backref="email_messages", on_delete="SET NULL")
    author = ForeignKeyField(User, null=True, backref="emails_written", on_delete="SET NULL")
    timeline_entry = ForeignKeyField(TimelineEntry, null=True, backref="email_messages",
                                     on_delete="SET NULL")
    matched_by = CharField(default="")      # inbound: thread, token, sender, domain, person
    # Inbound only (see models/inbound.py for mailboxes, checkpoints and where a copy was seen).
    inbound_state = CharField(default="", index=True)  # see INBOUND_STATES
    content_hash = CharField(default="", index=True)   # sha256 of the raw bytes: dedupe without Message-ID
    header_date = DateTimeField(null=True)             # the message's Date header, in UTC
    thread_index = CharField(default="", index=True)   # Outlook's Thread-Index, for replies without References
    auto_reason = CharField(default="")                # why it counts as automatic (RFC 3834, X-Autoreply, …)
    bounce_status = CharField(default="")              # RFC 3464 status of a delivery report, e.g. 5.1.1
    parse_error = TextField(default="")                # kept raw, shown in triage with this reason
    # Outgoing delivery.
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    claim = CharField(default="")           # the worker holding the row while it is `sending`
    claimed_at = DateTimeField(null=True)
    data_started_at = DateTimeField(null=True)  # from here the outcome is unknown until recorded
    last_error = TextField(default="")
    smtp_reply = TextField(default="")
    sent_at = DateTimeField(null=True)
    received_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("direction", "message_id"), True),
                   (("status", "next_attempt_at"), False),
                   (("account", "created_at"), False),
                   (("quote", "created_at"), False),
                   (("created_at", "id"), False))

    def __str__(self):
        return self.subject

    @property
    def status_label(self):
        return STATUSES.get(self.status, self.status)

    @property
    def recipients(self):
        return [a for a in (self.to_addrs.split(",") + self.cc_addrs.split(",")) if a.strip()]

    @property
    def matched_by_label(self):
        return MATCHED_BY.get(self.matched_by, self.matched_by)

    @property
    def is_automatic(self):
        """An auto-reply, a delivery report or held-back automatic mail: shown, never answered."""
        return self.direction == "in" and self.inbound_state in ("auto_reply", "bounce",
                                                                 "rate_limited")

    @property
    def can_answer_quote(self):
        """A person's reply to our quote email while the quote waits for an answer."""
        return (self.direction == "in" and self.quote_id is not None
                and self.matched_by in QUOTE_REPLY_MATCHES and not self.is_automatic
                and self.quote.status == "sent")

    @property
    def can_retry(self):
        return self.direction == "out" and self.status in RETRYABLE

    @property
    def can_send_again(self):
        return self.direction == "out" and self.status in RESENDABLE

    @classmethod
    def without_raw(cls):
        """Every column but the raw bytes: pages and lists never need them, and they can be
        megabytes a message."""
        return [f for f in cls._meta.sorted_fields if f is not cls.raw]

    @classmethod
    def of_quote(cls, quote):
        """The latest email that sent `quote` to the customer (None before it was sent)."""
        return cls.of_quotes([quote.id]).get(quote.id)

    @classmethod
    def of_quotes(cls, quote_ids):
        """{quote id: the latest email that sent it to the customer}, in one query."""
        emails = {}
        if quote_ids:
            for email in (cls.select(*cls.without_raw())
                          .where(cls.quote.in_(list(quote_ids)) & (cls.direction == "out")
                                 & (cls.kind == "quote"))
                          .order_by(cls.created_at, cls.id)):
                emails[email.quote_id] = email      # the later overwrites the earlier
        return emails

    @classmethod
    def outgoing(cls, status=None):
        """Outgoing mail, newest first, author and account loaded; `status` narrows it."""
        query = (cls.select(cls, User, Account)
                 .join(User, join_type="LEFT OUTER JOIN", on=(cls.author == User.id))
                 .switch(cls)
                 .join(Account, join_type="LEFT OUTER JOIN", on=(cls.account == Account.id))
                 .where(cls.direction == "out"))
        if status:
            query = query.where(cls.status == status)
        return query.order_by(cls.created_at.desc(), cls.id.desc())


class EmailAttachment(BaseModel):
    email = ForeignKeyField(Email, backref="attachments", on_delete="CASCADE")
    filename = CharField()
    content_type = CharField(default="application/octet-stream")
    size = IntegerField(default=0)
    content = BlobField(null=True)

    class Meta:
        indexes = ((("email", "filename"), False),)


def backoff(attempts):
    """How long to wait before the next try after `attempts` failed ones."""
    index = max(attempts, 1) - 1
    return datetime.timedelta(minutes=BACKOFF_MINUTES[min(index, len(BACKOFF_MINUTES) - 1)])


def attach_emails(entries):
    """Set `entry.email` (or None) on each timeline entry: the stored message of an email entry,
    its quote loaded and `email.files` listing its attachments (without their bytes).

    Two queries for a whole page, none when the page has no email entries.
    """
    for entry in entries:
        entry.email = None
    wanted = {e.id: e for e in entries if e.kind in ("email_in", "email_out")}
    if not wanted:
        return
    emails = list(with_quote()
                  .where(Email.timeline_entry.in_(list(wanted)))
                  .order_by(Email.id))
    for email in emails:
        wanted[email.timeline_entry_id].email = email
    attach_files(emails)


def with_quote():
    """Messages without their raw bytes, each with its quote (if any) in the same query."""
    return (Email.select(*Email.without_raw(), Quote)
            .join(Quote, join_type="LEFT OUTER JOIN", on=(Email.quote == Quote.id)))


def attach_files(emails):
    """Set `email.files` on each: its attachments without their bytes, in one query."""
    by_id = {e.id: e for e in emails}
    for email in emails:
        email.files = []
    if not by_id:
        return
    for file in (EmailAttachment
                 .select(EmailAttachment.id, EmailAttachment.email, EmailAttachment.filename,
                         EmailAttachment.content_type, EmailAttachment.size)
                 .where(EmailAttachment.email.in_(list(by_id)))
                 .order_by(EmailAttachment.id)):
        by_id[file.email_id].files.append(file)
