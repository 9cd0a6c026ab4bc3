"""Contacts in the API: list, create, read, update."""
from flask import g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.accounts import Account
from models.contacts import Contact, ContactEmail, clean_contact, emails_by_contact, save_contact
from models.validation import search_term

from . import (ID, bp, field_messages, forbid_unless, found, int_arg, iso_date, iso_datetime,
               page_by_id, page_response, page_size, read_body, record_response, seen_version)

WRITABLE = {**{name: "text" for name in (
    "first_name", "last_name", "position", "dmu_role", "phone", "mobile", "language",
    "birthday", "personal_notes", "consent_source")},
    "emails": "texts", "newsletter_consent": "bool", "version": "int"}
READ_ONLY = ("id", "name", "consent_at", "last_contact_at", "created_at", "updated_at")


@bp.get("/contacts")
def list_contacts():
    """Contacts in id order; filters: account_id, email (one of the contact's addresses)."""
    query = Contact.select()
    account_id = int_arg("account_id")
    if account_id is not None:
        query = query.where(Contact.account == account_id)
    email = search_term(request.args.get("email", "")).lower()
    if email:
        query = query.where(Contact.id.in_(
            ContactEmail.select(ContactEmail.contact).where(ContactEmail.email == email)))
    rows, next_cursor = page_by_id(query, Contact, page_size())
    return page_response(contact_items(rows), next_cursor)


@bp.post("/contacts")
def post_contact():
    body, errors = read_body({**WRITABLE, "account_id": "int"}, READ_ONLY + ("version",))
    account_id = body.pop("account_id", None)
    account = Account.get_or_none(Account.id == account_id) if account_id else None
    if account is None:
        errors.setdefault("account_id", _l("Give the id of an existing account."))
    else:
        forbid_unless(account.can_edit(g.user))
    with field_messages(errors):
        values = clean_contact(body)
    contact = save_contact(values, Contact(account=account))
    return record_response(contact_items([contact])[0], 201,
                           url_for(".get_contact", contact_id=contact.id))


@bp.get(f"/contacts/<{ID}:contact_id>")
def get_contact(contact_id):
    return record_response(contact_items([_contact(contact_id)])[0])


@bp.patch(f"/contacts/<{ID}:contact_id>")
def patch_contact(contact_id):
    contact = _contact(contact_id)
    forbid_unless(contact.account.can_edit(g.user))
    body, errors = read_body(WRITABLE, READ_ONLY + ("account_id",))
    version = seen_version(body)
    with field_messages(errors):
        values = clean_contact(body, partial=True)
    save_contact(values, contact, seen_version=version)
    return record_response(contact_items([contact])[0])


def _contact(contact_id):
    return found(Contact.get_or_none(Contact.id == contact_id),
                 _("There is no contact with the id %(id)s.", id=contact_id))


def contact_items(contacts):
    """The contacts as JSON objects, their addresses for the whole page in one query."""
    emails = emails_by_contact(contacts)
    return [{
        "id": c.id,
        "account_id": c.account_id,
        "name": c.name,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "position": c.position,
        "emails": emails[c.id],
        "dmu_role": c.dmu_role,
        "phone": c.phone,
        "mobile": c.mobile,
        "language": c.language,
        "birthday": iso_date(c.birthday),
        "personal_notes": c.personal_notes,
        "newsletter_consent": c.newsletter_consent,
        "consent_at": iso_datetime(c.consent_at),
        "consent_source": c.consent_source,
        "last_contact_at": iso_datetime(c.last_contact_at),
        "created_at": iso_datetime(c.created_at),
        "updated_at": iso_datetime(c.updated_at),
        "version": c.version,
    } for c in contacts]
