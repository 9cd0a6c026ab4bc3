"""Contacts: people at the accounts and their place in the DMU."""
from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import gettext as _

from models.accounts import Account
from models.contacts import (CONSENT_SOURCES, DMU_ROLES, NO_ROLE, SORTS, Contact, clean_contact,
                             contact_form, delete_contact, emails_by_contact, save_contact)
from models.db import StaleRecord
from models.users import LANGUAGES, User
from models.validation import Invalid

from .access import editable_account, get_or_404
from .rendering import (field_check, form_response, form_version, fragment, id_arg, page_number,
                        page_or_fragment, see_other, wants_fragment)

bp = Blueprint("contacts", __name__, url_prefix="/contacts")

PAGE_SIZE = 25
FILTERS = ("q", "dmu_role", "owner", "sort")


@bp.get("/")
def index():
    """The list: search as you type, DMU and owner filters, sortable headers, pages."""
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    page = page_number()
    owner = id_arg("owner")
    dmu_role = args["dmu_role"] if args["dmu_role"] in DMU_ROLES or \
        args["dmu_role"] == NO_ROLE else None
    filters = dict(q=args["q"], dmu_role=dmu_role, owner=owner)
    total = Contact.count_listing(**filters)
    contacts = list(Contact.listing(**filters, sort=args["sort"] or "name")
                    .paginate(page, PAGE_SIZE))
    emails = emails_by_contact(contacts)
    # The filter form is only on the whole page; a fragment needs no list of owners.
    owners = [] if wants_fragment() else list(User.active_users())
    return page_or_fragment(
        "contacts/index.html", "contacts/_results.html",
        contacts=contacts, emails=emails, total=total, page=page, page_size=PAGE_SIZE,
        args=args, owners=owners, dmu_roles=DMU_ROLES, no_role=NO_ROLE, sorts=SORTS)


@bp.route("/new/<int:account_id>", methods=["GET", "POST"])
def create(account_id):
    account = editable_account(account_id)
    form = {"dmu_role": request.args.get("dmu_role", "")}
    if request.method == "POST":
        form = request.form
        try:
            contact = save_contact(clean_contact(form), Contact(account=account))
        except Invalid as invalid:
            return form_response("contacts/new.html", "contacts/_form.html", invalid.errors,
                                 account=account, contact=None, **_form_context(form))
        flash(_("%(name)s added to %(account)s.", name=contact.name, account=account.name),
              "success")
        return see_other(url_for("contacts.show", contact_id=contact.id))
    return page_or_fragment("contacts/new.html", "contacts/_form.html", errors={},
                            account=account, contact=None, **_form_context(form))


@bp.post("/check")
def check():
    """Inline validation: the message the save would give for one field."""
    return field_check(clean_contact)


@bp.get("/<int:contact_id>")
def show(contact_id):
    """The contact page: who they are, how to reach them, what we did together."""
    contact = _contact(contact_id)
    entries, next_cursor = contact.timeline_page(before=request.args.get("before"))
    bouncing = set()
    emails = emails_by_contact([contact], bouncing)[contact.id]
    return page_or_fragment(
        "contacts/show.html", "contacts/_timeline.html",
        contact=contact, account=contact.account, emails=emails, bouncing=bouncing,
        entries=entries,
        next_cursor=next_cursor, tasks=list(contact.open_tasks()),
        can_edit=contact.can_edit(g.user), languages=LANGUAGES,
        consent_sources=CONSENT_SOURCES)


@bp.get("/<int:contact_id>/timeline/more")
def timeline_more(contact_id):
    """The next page of older entries, in place of the "Show older" control."""
    contact = _contact(contact_id)
    entries, next_cursor = contact.timeline_page(before=request.args.get("before"))
    return fragment("contacts/_entries.html", contact=contact, entries=entries,
                    next_cursor=next_cursor)


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
def edit(contact_id):
    contact = _editable(contact_id)
    account = contact.account
    if request.method == "POST":
        form = request.form
        try:
            save_contact(clean_contact(form), contact, seen_version=form_version(form))
        except Invalid as invalid:
            return form_response("contacts/edit.html", "contacts/_form.html", invalid.errors,
                                 account=account, contact=contact, **_form_context(form))
        except StaleRecord:
            errors = {"_form": _("Someone else changed this contact while you were editing. "
                                 "Your changes are below; reload the page to see theirs, then "
                                 "apply yours again.")}
            return form_response("contacts/edit.html", "contacts/_form.html", errors,
                                 status=409, account=account, contact=contact,
                                 **_form_context(form))
        flash(_("Changes to %(name)s saved.", name=contact.name), "success")
        return see_other(url_for("contacts.show", contact_id=contact.id))
    return page_or_fragment("contacts/edit.html", "contacts/_form.html", errors={},
                            account=account, contact=contact,
                            **_form_context(contact_form(contact)))


@bp.post("/<int:contact_id>/delete")
def delete(contact_id):
    contact = _editable(contact_id)
    account_id, name = contact.account_id, contact.name
    delete_contact(contact)
    flash(_("%(name)s deleted.", name=name), "success")
    return see_other(url_for("accounts.show", account_id=account_id))


def _contact(contact_id):
    """The contact with their account loaded, or 404."""
    contact = (Contact.select(Contact, Account)
               .join(Account)
               .where(Contact.id == contact_id)
               .first())
    if contact is None:
        abort(404)
    return contact


def _editable(contact_id):
    """The contact if the current user may change their account: 404 unknown, 403 not theirs."""
    contact = get_or_404(Contact, contact_id)
    contact.account = editable_account(contact.account_id)
    return contact


def _form_context(form):
    return dict(form=form, dmu_roles=DMU_ROLES, languages=LANGUAGES,
                consent_sources=CONSENT_SOURCES)
