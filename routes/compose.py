"""Writing an email from the account page, and replying to a received one."""
from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import format_datetime, gettext as _

from mail.compose import (MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, check_reply_allowed,
                          clean_message, reply_form, send_message)
from models.contacts import Contact, emails_by_contact
from models.emails import Email
from models.validation import Invalid

from .access import editable_account, find, get_or_404
from .rendering import form_response, page_or_fragment, see_other

bp = Blueprint("compose", __name__)

# The form may carry MAX_ATTACHMENTS files of 10 MB each, more than the app's usual limit.
FORM_LIMIT = MAX_ATTACHMENTS * MAX_ATTACHMENT_BYTES + 1024 * 1024


@bp.route("/accounts/<int:account_id>/write", methods=["GET", "POST"])
def write(account_id):
    """A new message to a contact of the account (`?contact=` picks the first recipient)."""
    account = editable_account(account_id)
    form = {}
    contact = find(Contact, request.args.get("contact"))
    if contact is not None and contact.account_id == account.id and contact.emails:
        form["to"] = contact.emails[0]
    return _compose(account, form, None)


@bp.route("/emails/<int:email_id>/reply", methods=["GET", "POST"])
def reply(email_id):
    """A reply to a received message: Re: subject, thread headers, the earlier text quoted."""
    email = get_or_404(Email, email_id)
    try:
        check_reply_allowed(email)
    except Invalid:
        abort(404)
    if email.account_id is None:
        abort(404)  # a message in the inbox is assigned to an account first
    account = editable_account(email.account_id)
    sent_on = email.header_date or email.received_at or email.created_at
    return _compose(account, reply_form(email, format_datetime(sent_on, "medium")), email)


def _compose(account, initial, replying_to):
    context = dict(account=account, replying_to=replying_to,
                   recipients=_recipients(account), max_files=MAX_ATTACHMENTS)
    if request.method == "GET":
        return page_or_fragment("compose/write.html", "compose/_form.html", form=initial,
                                errors={}, **context)
    request.max_content_length = FORM_LIMIT
    form = request.form
    files = [(f.filename, f.mimetype, f.stream) for f in request.files.getlist("attachments")]
    try:
        values = clean_message(form, files)
        send_message(account, g.user, values, replying_to=replying_to)
    except Invalid as invalid:
        return form_response("compose/write.html", "compose/_form.html", invalid.errors,
                             form=form, **context)
    flash(_("The message is in the outbox and on the timeline."), "success")
    return see_other(url_for("accounts.show", account_id=account.id))


def _recipients(account):
    """The account's contacts with an address, for the "To" suggestions."""
    contacts = list(Contact.of_account(account))
    emails = emails_by_contact(contacts)
    return [(c, address) for c in contacts for address in emails[c.id]]

