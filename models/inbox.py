"""The triage inbox: inbound mail the matcher could not place, until a person does.

Assigning files the message on an account's timeline (`matched_by` "person"); a person may
also add the sender as a contact there, or remember the sender for that account (a
SenderRule), so the sender's next message finds its way by itself. Both actions are
conditional on the message still waiting: two people assigning the same message at once
file it once.
"""
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import fn

from .accounts import FREE_MAIL_DOMAINS, Account
from .contacts import Contact, ContactEmail, clean_contact, save_contact
from .db import db, utcnow
from .emails import Email, attach_files, with_quote
from .inbound import SenderRule
from .timeline import record_entry
from .validation import Invalid, parse_int

WAITING = ("triage", "unparsed")
SUMMARY_LENGTH = 500


def waiting():
    """Inbound mail waiting for a person, newest first (not yet paged)."""
    return (Email.select(*Email.without_raw())
            .where((Email.direction == "in") & Email.inbound_state.in_(WAITING))
            .order_by(Email.received_at.desc(nulls="last"), Email.id.desc()))


def received(email_id):
    """One message with its quote and attachments (not their bytes), for its page; or None."""
    email = with_quote().where(Email.id == email_id).first()
    if email is not None:
        attach_files([email])
    return email


def chosen(ids):
    """The received messages among `ids` (a form's ticked rows)."""
    return list(Email.select(*Email.without_raw())
                .where(Email.id.in_(ids or [0]) & (Email.direction == "in")))


def waiting_count():
    """How many messages wait in the inbox: one indexed count (the top bar shows it)."""
    return (Email.select()
            .where(Email.inbound_state.in_(WAITING) & (Email.direction == "in"))
            .count())


def sender_address(email):
    return parseaddr(email.from_addr or "")[1].strip().lower()


def sender_name(email):
    """The sender's display name: from the stored From, else from the raw message's header."""
    name = parseaddr(email.from_addr or "")[0].strip()
    if name or not email.raw:
        return name
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(bytes(email.raw))
        value = headers.get("X-Original-From") or headers.get("From") or ""
        name = str(getattr(value, "addresses", [None])[0].display_name or "") \
            if getattr(value, "addresses", None) else parseaddr(str(value))[0]
    except Exception:  # noqa: BLE001  untrusted bytes: no name rather than an error
        return ""
    return " ".join(name.split())[:120]


def triage_reasons(emails):
    """{email id: why it waits here, in words} for a page, with one query.

    Derived from what is stored: the parse error, or what the sender's address and domain
    tell (a contact at several accounts, a free-mail domain, nobody known).
    """
    addresses = {sender_address(e) for e in emails if sender_address(e)}
    accounts_per_address = {}
    if addresses:
        accounts_per_address = dict(
            ContactEmail.select(ContactEmail.email, fn.COUNT(Contact.account.distinct()))
            .join(Contact)
            .where(ContactEmail.email.in_(list(addresses)))
            .group_by(ContactEmail.email)
            .tuples())
    reasons = {}
    for email in emails:
        address = sender_address(email)
        domain = address.rpartition("@")[2]
        if email.inbound_state == "unparsed":
            reasons[email.id] = email.parse_error or _("The message could not be read.")
        elif not address:
            reasons[email.id] = _("The message has no sender address.")
        elif accounts_per_address.get(address, 0) > 1:
            reasons[email.id] = _("The sender is a contact at %(n)s accounts.",
                                  n=accounts_per_address[address])
        elif email.reply_token and accounts_per_address.get(address):
            reasons[email.id] = _("It names document %(token)s, but the sender is a contact "
                                  "of another account.", token=email.reply_token.upper())
        elif domain in FREE_MAIL_DOMAINS:
            reasons[email.id] = _("Sent from a free-mail address (%(domain)s) that is no "
                                  "contact of any account.", domain=domain)
        else:
            reasons[email.id] = _("No account knows the sender %(address)s or the domain "
                                  "%(domain)s.", address=address, domain=domain)
    return reasons


def clean_assignment(data):
    """The account to file on and the two options; Invalid when the account is unknown."""
    account_id = parse_int(data.get("account_id"), minimum=1)  # a form's text or the API's int
    account = Account.get_or_none(Account.id == account_id) if account_id is not None else None
    if account is None:
        raise Invalid({"account_id": _l("Choose the account this message belongs to.")})
    return {"account": account, "add_contact": _flag(data.get("add_contact")),
            "remember_sender": _flag(data.get("remember_sender"))}


def _flag(value):
    return value is True or (isinstance(value, str) and value.lower() in ("1", "on", "true",
                                                                          "yes"))


def assign(emails, account, by, add_contact=False, remember_sender=False):
    """File waiting messages on `account`; the number filed (others were handled meanwhile)."""
    filed = 0
    with db.atomic():
        for email in emails:
            taken = (Email.update(inbound_state="filed", matched_by="person", account=account,
                                  updated_at=utcnow())
                     .where((Email.id == email.id) & Email.inbound_state.in_(WAITING))
                     .execute())
            if not taken:
                continue
            contact = _sender_contact(email, account, add_contact)
            if remember_sender or (add_contact and _known_elsewhere(email, account)):
                _remember(email, account, by)
            entry = file_on_timeline(email, account, contact)
            (Email.update(contact=contact, timeline_entry=entry)
             .where(Email.id == email.id)
             .execute())
            filed += 1
    return filed


def dismiss(emails):
    """Dismissed messages leave the inbox (kept, never deleted); the number dismissed."""
    ids = [e.id for e in emails]
    if not ids:
        return 0
    return (Email.update(inbound_state="dismissed", updated_at=utcnow())
            .where(Email.id.in_(ids) & Email.inbound_state.in_(WAITING))
            .execute())


def file_on_timeline(email, account, contact=None):
    """The `email_in` entry of a received message: subject, the start of its text, sender."""
    moment = email.header_date or email.received_at or email.created_at or utcnow()
    moment = min(moment, utcnow()).replace(microsecond=0)
    text = " ".join((email.body_text or "").split())
    summary = text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1] + "…"
    return record_entry(account, None, {
        "kind": "email_in", "occurred_at": moment,
        "subject": (email.subject or _("(no subject)"))[:200], "summary": summary,
        "contacts": [contact.id] if contact else []})


def _sender_contact(email, account, add_contact):
    address = sender_address(email)
    if not address:
        return None
    contact = (Contact.select()
               .join(ContactEmail)
               .where((Contact.account == account) & (ContactEmail.email == address))
               .first())
    if contact is not None or not add_contact:
        return contact
    name = sender_name(email if email.raw else Email.get_by_id(email.id))  # lists skip raw
    first, _sep, last = name.rpartition(" ")
    if not last:
        first, last = "", address.partition("@")[0]
    try:
        values = clean_contact({"first_name": first[:80], "last_name": last[:80],
                                "emails": address})
    except Invalid:  # an address our validation refuses stays in the message, not a contact
        return None
    return save_contact(values, Contact(account=account))


def _known_elsewhere(email, account):
    """The sender is a contact of another account too: only a remembered sender decides then."""
    return (ContactEmail.select()
            .join(Contact)
            .where((ContactEmail.email == sender_address(email)) & (Contact.account != account))
            .exists())


def _remember(email, account, by):
    address = sender_address(email)
    if not address:
        return
    updated = (SenderRule.update(account=account, created_by=by, created_at=utcnow())
               .where(SenderRule.address == address)
               .execute())
    if not updated:
        SenderRule.create(address=address, account=account, created_by=by)

