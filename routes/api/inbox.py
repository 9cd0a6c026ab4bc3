"""The triage inbox in the API: the messages waiting for a person, and assigning one."""
from flask import g
from flask_babel import gettext as _

from models.emails import Email
from models.validation import Invalid
from models.inbox import WAITING, assign, clean_assignment, triage_reasons, waiting

from . import (ID, ApiError, bp, cursor_arg, encode_cursor, found, is_id, iso_datetime,
               page_response, page_size, read_body)

ASSIGN_FIELDS = {"account_id": "int", "add_contact": "bool", "remember_sender": "bool"}


@bp.get("/inbox")
def list_inbox():
    """Waiting messages, newest first (by id: later stored, later received)."""
    after = cursor_arg(is_id)
    query = (Email.select(*Email.without_raw())
             .where(Email.id.in_(waiting().select(Email.id))))
    if after is not None:
        query = query.where(Email.id < after)
    size = page_size()
    rows = list(query.order_by(Email.id.desc()).limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    reasons = triage_reasons(rows)
    return page_response([inbox_item(e, reasons[e.id]) for e in rows],
                         encode_cursor(rows[-1].id) if more else None)


@bp.post(f"/inbox/<{ID}:email_id>/assign")
def assign_message(email_id):
    """File a waiting message on an account: {"account_id", "add_contact", "remember_sender"}."""
    email = found(Email.get_or_none((Email.id == email_id) & (Email.direction == "in")),
                  _("There is no received email with the id %(id)s.", id=email_id))
    body, errors = read_body(ASSIGN_FIELDS)
    if errors:
        raise Invalid(errors)
    values = clean_assignment(body)
    if email.inbound_state not in WAITING:
        raise ApiError(409, _("This message is not waiting in the inbox any more."))
    if not assign([email], values["account"], g.user, add_contact=values["add_contact"],
                  remember_sender=values["remember_sender"]):
        raise ApiError(409, _("This message is not waiting in the inbox any more."))
    email = Email.get_by_id(email.id)
    return inbox_item(email, "")


def inbox_item(email, reason):
    return {
        "id": email.id,
        "message_id": email.message_id,
        "from": email.from_addr,
        "to": _addresses(email.to_addrs),
        "cc": _addresses(email.cc_addrs),
        "subject": email.subject,
        "received_at": iso_datetime(email.received_at or email.created_at),
        "state": email.inbound_state,
        "reason": reason,
        "account_id": email.account_id,
        "contact_id": email.contact_id,
        "matched_by": email.matched_by,
        "timeline_entry_id": email.timeline_entry_id,
    }


def _addresses(value):
    return [a.strip() for a in (value or "").split(",") if a.strip()]
