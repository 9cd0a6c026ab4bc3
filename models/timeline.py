"""The account's timeline: every contact moment, newest first."""
import datetime

from flask_babel import lazy_gettext as _l
from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, TextField, fn

from .accounts import Account
from .contacts import Contact
from .db import BaseModel, db, to_utc, utcnow
from .users import User
from .validation import Checker, parse_int, search_term

KINDS = {
    "note": _l("Note"),
    "call": _l("Call"),
    "meeting": _l("Meeting"),
    "visit": _l("Visit"),
    "email_in": _l("Email received"),
    "email_out": _l("Email sent"),
    "quote": _l("Quote"),
}
# What a person logs by hand; email entries come from the mail system.
MANUAL_KINDS = ("note", "call", "meeting", "visit")
# A note is not a contact moment: it does not reset "last contact".
CONTACT_KINDS = ("call", "meeting", "visit", "email_in", "email_out")
PAGE_SIZE = 20


class TimelineEntry(BaseModel):
    account = ForeignKeyField(Account, backref="timeline", on_delete="CASCADE")
    kind = CharField()
    occurred_at = DateTimeField()
    author = ForeignKeyField(User, null=True, backref="timeline_entries", on_delete="SET NULL")
    subject = CharField(default="")
    summary = TextField(default="")
    agreements = TextField(default="")
    next_step = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "occurred_at", "id"), False),
                   (("account", "kind", "occurred_at"), False))

    @property
    def kind_label(self):
        return KINDS.get(self.kind, self.kind)

    @property
    def cursor(self):
        """Where the next page of older entries starts."""
        return f"{self.occurred_at.isoformat()}_{self.id}"

    @classmethod
    def of_account(cls, account, kind=None, before=None):
        """Newest first, authors loaded; `before` is the cursor of the last entry shown."""
        query = (cls.select(cls, User)
                 .join(User, join_type=JOIN.LEFT_OUTER, on=(cls.author == User.id))
                 .where(cls.account == account))
        kind = search_term(kind)
        if kind:
            query = query.where(cls.kind == kind)
        position = parse_cursor(before)
        if position:
            at, entry_id = position
            query = query.where((cls.occurred_at < at)
                                | ((cls.occurred_at == at) & (cls.id < entry_id)))
        return query.order_by(cls.occurred_at.desc(), cls.id.desc())


class TimelineParticipant(BaseModel):
    """A contact who took part in a contact moment."""
    entry = ForeignKeyField(TimelineEntry, backref="participants", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="timeline_participations", on_delete="CASCADE")

    class Meta:
        indexes = ((("entry", "contact"), True), (("contact", "entry"), False))


def parse_cursor(cursor):
    """(moment, entry id) from a cursor like "2026-03-01T09:30:00_42"; None when it is not one
    an entry could have written (the first page is shown then)."""
    if not cursor or not isinstance(cursor, str) or "_" not in cursor:
        return None
    at, entry_id = cursor.rsplit("_", 1)
    entry_id = parse_int(entry_id, minimum=1)
    try:
        moment = datetime.datetime.fromisoformat(at)
    except ValueError:
        return None
    if entry_id is None or moment.tzinfo is not None:
        return None
    return moment, entry_id


def page_of(account, kind=None, before=None, size=PAGE_SIZE):
    """One page of entries with participants attached, and the cursor of the next page."""
    entries = list(TimelineEntry.of_account(account, kind, before).limit(size + 1))
    more = len(entries) > size
    entries = entries[:size]
    attach_participants(entries)
    return entries, (entries[-1].cursor if more else None)


def attach_participants(entries):
    """Set `entry.people` on each entry with one query for the whole page, and `entry.email`
    on email entries (models.emails.attach_emails: two more when the page has any)."""
    from .emails import attach_emails
    attach_emails(entries)
    by_entry = {e.id: e for e in entries}
    for entry in entries:
        entry.people = []
    if not by_entry:
        return
    rows = (TimelineParticipant.select(TimelineParticipant.entry, Contact)
            .join(Contact)
            .where(TimelineParticipant.entry.in_(list(by_entry)))
            .order_by(Contact.last_name))
    for row in rows:
        by_entry[row.entry_id].people.append(row.contact)


def clean_entry(data, account, timezone_name="UTC", partial=False, entry=None):
    """Validate a timeline entry; `occurred_at` typed in the user's time zone.

    For a partial update pass the stored `entry`, so "subject or summary" holds after it.
    """
    check = Checker(data, partial=partial)
    check.choice("kind", KINDS)
    check.datetime("occurred_at")
    check.text("subject", max_length=200)
    check.text("summary", max_length=20000, multiline=True)
    check.text("agreements", max_length=10000, multiline=True)
    check.text("next_step", max_length=2000, multiline=True)
    values = check.values
    if values.get("occurred_at"):
        values["occurred_at"] = to_utc(values["occurred_at"], timezone_name)
        if values["occurred_at"] > utcnow() + datetime.timedelta(days=1):
            check.fail("occurred_at", _l("A contact moment cannot lie in the future."))
    elif not partial:
        values["occurred_at"] = utcnow().replace(microsecond=0)
    subject = values.get("subject", entry.subject if entry is not None else "")
    summary = values.get("summary", entry.summary if entry is not None else "")
    if (not partial or entry is not None) and not (subject or summary):
        check.fail("summary", _l("Write what was discussed, or at least a subject."))
    if "contacts" in data:
        ids = data.get("contacts") or []
        if isinstance(ids, str):
            ids = [ids]
        ids = {parse_int(i, minimum=1) for i in ids} if isinstance(ids, (list, tuple)) else {None}
        if None in ids:
            ids = None  # not a list of ids, or a number no contact can have
        known = set() if not ids else {c.id for c in Contact.select(Contact.id).where(
            (Contact.account == account) & Contact.id.in_(ids))}
        if ids is None or known != ids:
            check.fail("contacts", _l("Choose contacts of this account."))
        values["contacts"] = sorted(ids or ())
    return check.done()


def record_entry(account, author, values):
    """Put a contact moment on the timeline and refresh the last-contact dates."""
    with db.atomic():
        entry = TimelineEntry.create(
            account=account, author=author, kind=values["kind"],
            occurred_at=values["occurred_at"], subject=values.get("subject", ""),
            summary=values.get("summary", ""), agreements=values.get("agreements", ""),
            next_step=values.get("next_step", ""))
        set_participants(entry, values.get("contacts", []))
        refresh_last_contact(account)
    return entry


def update_entry(entry, values):
    with db.atomic():
        if "contacts" in values:
            set_participants(entry, values["contacts"])
        for field in ("kind", "occurred_at", "subject", "summary", "agreements", "next_step"):
            if field in values:
                setattr(entry, field, values[field])
        entry.updated_at = utcnow()
        entry.save()
        refresh_last_contact(entry.account)
    return entry


def delete_entry(entry):
    with db.atomic():
        account = entry.account
        entry.delete_instance(recursive=True)
        refresh_last_contact(account)


def set_participants(entry, contact_ids):
    TimelineParticipant.delete().where(TimelineParticipant.entry == entry).execute()
    for contact_id in contact_ids:
        TimelineParticipant.create(entry=entry, contact=contact_id)


def refresh_last_contact(account):
    """Derive the last-contact dates of the account and its contacts from the timeline."""
    latest = (TimelineEntry.select(fn.MAX(TimelineEntry.occurred_at))
              .where((TimelineEntry.account == account)
                     & TimelineEntry.kind.in_(CONTACT_KINDS))
              .scalar())
    Account.update(last_contact_at=latest).where(Account.id == account.id).execute()
    account.last_contact_at = latest
    per_contact = dict(
        TimelineParticipant.select(TimelineParticipant.contact, fn.MAX(TimelineEntry.occurred_at))
        .join(TimelineEntry)
        .join(Contact, on=(TimelineParticipant.contact == Contact.id))
        .where((Contact.account == account) & TimelineEntry.kind.in_(CONTACT_KINDS))
        .group_by(TimelineParticipant.contact)
        .tuples())
    stale = (Contact.select(Contact.id, Contact.last_contact_at)
             .where((Contact.account == account)
                    & (Contact.last_contact_at.is_null(False)
                       | Contact.id.in_(list(per_contact) or [0]))))
    for contact in stale:
        latest_for_contact = per_contact.get(contact.id)
        if contact.last_contact_at != latest_for_contact:
            Contact.update(last_contact_at=latest_for_contact).where(
                Contact.id == contact.id).execute()
