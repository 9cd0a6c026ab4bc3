"""Quote mail: the quote to the customer, and the customer's answer to the quote's owner.

The customer answers through a signed link (itsdangerous, salt "quote-answer") carrying the
quote's id and revision, valid QUOTE_LINK_DAYS days and never beyond the quote's validity
(`models.quotes.accept` refuses an expired or superseded quote).
"""
from email.utils import formataddr

from flask import current_app
from flask_babel import force_locale, gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.routing import BuildError

from models.db import db, utcnow
from models.emails import Email
from models.quotes import Quote, mark_sent, sendable_error
from models.settings import company
from models.timeline import record_entry
from models.validation import Invalid

from . import render_email
from .documents import Formats, accent_colour, document_locale, quote_filename, quote_pdf
from .outbox import queue_email, reply_address

ANSWER_SALT = "quote-answer"


class LinkProblem(Exception):
    """A customer link that cannot be used; `reason` says why (tampered, expired, gone)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ANSWER_SALT)


def answer_token(quote):
    return _serializer().dumps({"q": quote.id, "r": quote.revision})


def quote_from_token(token):
    """The quote a customer link names, or LinkProblem("tampered" | "expired" | "gone")."""
    max_age = int(current_app.config["QUOTE_LINK_DAYS"]) * 24 * 3600
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkProblem("expired") from None
    except BadSignature:
        raise LinkProblem("tampered") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("q"), int):
        raise LinkProblem("tampered")
    quote = Quote.get_or_none((Quote.id == payload["q"]) & (Quote.revision == payload.get("r")))
    if quote is None:
        raise LinkProblem("gone")
    return quote


def external_url(endpoint, **values):
    """An absolute link for an email: BASE_URL and the route's path (works outside requests)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def reply_token(quote):
    """The +token of the Reply-To address and the tag inbound mail is matched by: q-2026-0007."""
    return quote.display_number.lower()


def send_quote(quote, by):
    """Queue the quote email (PDF attached), mark the quote sent and put the email on the
    account's timeline — all three, or none. Invalid when the quote cannot be sent."""
    error = sendable_error(quote)
    if error:
        raise Invalid({"status": error})
    contact = quote.contact
    settings = company()
    token = reply_token(quote)
    totals = quote.totals()
    with force_locale(document_locale(quote.language)):
        subject = _("[%(number)s] Quote from %(company)s", number=quote.display_number,
                    company=settings.name)
        text, html = render_email(
            "quote", quote=quote, contact=contact, author=by, company=settings,
            accent=accent_colour(settings), totals=totals, fmt=Formats(quote.currency),
            link=external_url("public.quote", token=answer_token(quote)))
    pdf = quote_pdf(quote)
    recipient = contact.emails[0]
    with db.atomic():
        email = queue_email(
            to=[formataddr((contact.name, recipient))], subject=subject, text=text, html=html,
            kind="quote", reply_to=reply_address(token), reply_token=token,
            attachments=[(quote_filename(quote), "application/pdf", pdf)],
            account=quote.account, contact=contact, quote=quote, author=by)
        mark_sent(quote, by)
        entry = record_entry(quote.account, by, {
            "kind": "email_out", "occurred_at": utcnow().replace(microsecond=0),
            "subject": subject[:200],
            "summary": _("Quote %(number)s sent to %(recipient)s, with %(file)s attached.",
                         number=quote.display_number, recipient=recipient,
                         file=quote_filename(quote)),
            "contacts": [contact.id]})
        Email.update(timeline_entry=entry).where(Email.id == email.id).execute()
        email.timeline_entry = entry
    return email


def notify_owner_of_answer(quote):
    """Tell the quote's owner that the customer accepted or declined, in the owner's language."""
    owner = quote.owner
    try:
        url = external_url("quotes.show", quote_id=quote.id)
    except BuildError:
        url = external_url("accounts.show", account_id=quote.account_id)
    with force_locale(document_locale(owner.language)):
        if quote.status == "accepted":
            subject = _("[%(number)s] Accepted by %(name)s", number=quote.display_number,
                        name=quote.accepted_by_name)
        else:
            subject = _("[%(number)s] Declined by the customer", number=quote.display_number)
        text, html = render_email("quote_answered", quote=quote, owner=owner,
                                  account=quote.account, url=url,
                                  fmt=Formats(quote.currency), totals=quote.totals())
    return queue_email(to=[formataddr((owner.name, owner.email))], subject=subject, text=text,
                       html=html, kind="quote_answer_notice", reply_token=reply_token(quote),
                       account=quote.account, contact=quote.contact, quote=quote)
