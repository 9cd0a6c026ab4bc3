"""The account timeline in the API: entries newest first, logging and correcting them."""
from flask import g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from models.accounts import Account
from models.timeline import (KINDS, MANUAL_KINDS, TimelineEntry, attach_participants,
                             clean_entry, parse_cursor, record_entry, update_entry)
from models.users import User

from . import (ID, bp, choice_arg, cursor_arg, encode_cursor, field_messages, forbid_unless, found,
               is_id, iso_datetime, page_response, page_size, read_body, record_response)

WRITABLE = {**{name: "text" for name in (
    "kind", "occurred_at", "subject", "summary", "agreements", "next_step")},
    "contact_ids": "ints"}
READ_ONLY = ("id", "account_id", "author", "email", "created_at", "updated_at")
# The API says contact_ids where the timeline's clean function says contacts.
RENAMED = {"contacts": "contact_ids"}


@bp.get(f"/accounts/<{ID}:account_id>/timeline")
def list_entries(account_id):
    """The account's entries, newest first; filter: kind."""
    account = _account(account_id)
    kind = choice_arg("kind", KINDS)
    before = cursor_arg(_is_position)
    size = page_size()
    entries = list(TimelineEntry.of_account(account, kind, before).limit(size + 1))
    more = len(entries) > size
    entries = entries[:size]
    return page_response(entry_items(entries), encode_cursor(entries[-1].cursor) if more else None)


@bp.post(f"/accounts/<{ID}:account_id>/timeline")
def post_entry(account_id):
    """Log a contact moment (anyone may, as on the account page); no offset means UTC."""
    account = _account(account_id)
    body, errors = read_body(WRITABLE, READ_ONLY)
    errors.update(_kind_errors(body))
    with field_messages(errors, RENAMED):
        values = clean_entry(_as_form(body), account, "UTC")
    entry = record_entry(account, g.user, values)
    return record_response(_entry_item(entry.id), 201, url_for(".get_entry", entry_id=entry.id))


@bp.get(f"/timeline/<{ID}:entry_id>")
def get_entry(entry_id):
    return record_response(_entry_item(entry_id))


@bp.patch(f"/timeline/<{ID}:entry_id>")
def patch_entry(entry_id):
    """Correct an entry: its author may, and managers and admins (the rule for deleting one)."""
    entry = _entry(entry_id)
    forbid_unless(g.user.leads_team or entry.author_id == g.user.id)
    body, errors = read_body(WRITABLE, READ_ONLY)
    errors.update(_kind_errors(body, entry))
    with field_messages(errors, RENAMED):
        values = clean_entry(_as_form(body), entry.account, "UTC", partial=True, entry=entry)
    update_entry(entry, values)
    return record_response(_entry_item(entry.id))


def _is_position(cursor):
    """A timeline cursor as the model writes it: the last entry's moment and id."""
    position = parse_cursor(cursor) if isinstance(cursor, str) else None
    return position is not None and is_id(position[1])


def _account(account_id):
    return found(Account.get_or_none(Account.id == account_id),
                 _("There is no account with the id %(id)s.", id=account_id))


def _entry(entry_id):
    return found(TimelineEntry.get_or_none(TimelineEntry.id == entry_id),
                 _("There is no timeline entry with the id %(id)s.", id=entry_id))


def _kind_errors(body, entry=None):
    """Email entries come from the mail system: the API neither makes nor unmakes one."""
    if "kind" not in body or (entry is not None and body["kind"] == entry.kind):
        return {}
    if entry is not None and entry.kind not in MANUAL_KINDS:
        return {"kind": _l("An email entry stays an email entry.")}
    if body["kind"] in KINDS and body["kind"] not in MANUAL_KINDS:
        return {"kind": _l("Email entries come from the mail system; log one of: %(kinds)s.",
                           kinds=", ".join(MANUAL_KINDS))}
    return {}


def _as_form(body):
    data = dict(body)
    if "contact_ids" in data:
        data["contacts"] = data.pop("contact_ids") or []
    return data


def _entry_item(entry_id):
    query = (TimelineEntry.select(TimelineEntry, User)
             .join(User, join_type=JOIN.LEFT_OUTER, on=(TimelineEntry.author == User.id))
             .where(TimelineEntry.id == entry_id))
    entry = found(query.first(), _("There is no timeline entry with the id %(id)s.", id=entry_id))
    return entry_items([entry])[0]


def email_details(entries):
    """{entry id: {message_id, from, to, direction, matched_by}} for the email entries of a page.

    The stored messages come with the entries (models.emails.attach_emails, called by
    attach_participants: one query for the page); an entry without one has `email` null.
    """
    details = {}
    for entry in entries:
        email = getattr(entry, "email", None)
        if email is None:
            continue
        details[entry.id] = {
            "message_id": email.message_id,
            "from": email.from_addr,
            "to": [a.strip() for a in (email.to_addrs or "").split(",") if a.strip()],
            "cc": [a.strip() for a in (email.cc_addrs or "").split(",") if a.strip()],
            "direction": email.direction,
            "matched_by": email.matched_by,
            "subject": email.subject,
            "in_reply_to": email.in_reply_to,
            "attachments": [{"id": f.id, "filename": f.filename, "size": f.size,
                             "content_type": f.content_type} for f in email.files],
        }
    return details


def entry_items(entries):
    """The entries as JSON objects: participants and email details in one query each."""
    attach_participants(entries)
    emails = email_details([e for e in entries if e.kind in ("email_in", "email_out")])
    return [{
        "id": e.id,
        "account_id": e.account_id,
        "kind": e.kind,
        "occurred_at": iso_datetime(e.occurred_at),
        "subject": e.subject,
        "summary": e.summary,
        "agreements": e.agreements,
        "next_step": e.next_step,
        "author": e.author.email if e.author_id else None,
        "contact_ids": [c.id for c in e.people],
        "email": emails.get(e.id),
        "created_at": iso_datetime(e.created_at),
        "updated_at": iso_datetime(e.updated_at),
    } for e in entries]
