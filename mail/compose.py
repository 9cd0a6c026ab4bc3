"""Writing to a customer from the account page, and replying to what they sent.

A reply carries `In-Reply-To` (the message answered) and `References` (its references, then
its id), keeps the subject with one "Re: " in front, and quotes the earlier text below the
new one. It goes through the outbox like every message and lands on the account's timeline
as an `email_out` entry; the customer's answer threads back by those ids (mail/matching.py).
Replies to a quote's thread keep the quote's reply token, so its `+token` address and
`[Q-…]` subject tag still name the quote.
"""
import re
from email.utils import formataddr, parseaddr

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.contacts import Contact, ContactEmail
from models.db import db, utcnow
from models.emails import Email
from models.timeline import record_entry
from models.validation import Checker, Invalid

from .outbox import queue_email, reply_address
from .sanitize import safe_filename, split_text_quote

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
MAX_RECIPIENTS = 20
REPLY_PREFIX = re.compile(r"^\s*(re|aw|antw|sv|vs|r|rif|απ|σχετ)\s*(\[\d+\])?\s*:", re.IGNORECASE)
SUMMARY_LENGTH = 500


def reply_subject(subject):
    """"Re: " in front, once: a subject that already starts with a reply prefix stays."""
    subject = " ".join((subject or "").split())
    return subject if REPLY_PREFIX.match(subject) else f"Re: {subject}".strip()


def reply_references(email):
    """The References of a reply: the answered message's references, then its own id."""
    ids = [i.strip("<> ") for i in (email.references or "").split() if i.strip("<> ")]
    if email.message_id and email.message_id not in ids:
        ids.append(email.message_id)
    return ids


def quoted_text(email, when_text):
    """The earlier message below the reply: an attribution line, then its text with "> "."""
    name, address = parseaddr(email.from_addr or "")
    who = formataddr((name, address)) if name else address
    new, _quoted = split_text_quote(email.body_text or "")
    lines = "\n".join(f"> {line}" if line else ">" for line in new.strip("\n").splitlines())
    return _("On %(when)s, %(who)s wrote:", when=when_text, who=who) + "\n" + lines


def reply_form(email, when_text):
    """What the reply form starts with: the sender, Re: subject, the quoted text."""
    to = parseaddr(email.reply_to or "")[1] or parseaddr(email.from_addr or "")[1]
    return {"to": to, "cc": "", "subject": reply_subject(email.subject),
            "body": "\n\n" + quoted_text(email, when_text)}


def clean_message(data, files=()):
    """Validate a message to write: recipients, subject, text and attachments (≤ 10 MB each).

    `files` are (filename, content type, stream) triples; the streams are read here, at most
    one byte beyond the limit. Returns the values with `attachments` as (name, type, bytes).
    """
    check = Checker(data)
    check.email_list("to")
    check.email_list("cc")
    check.text("subject", required=True, max_length=200)
    check.text("body", required=True, max_length=100000, multiline=True)
    values = check.values
    if "to" in values and not values["to"]:
        check.fail("to", _l("Enter the address to write to."))
    if len(values.get("to", [])) + len(values.get("cc", [])) > MAX_RECIPIENTS:
        check.fail("to", _l("Write to at most %(n)s addresses at once.", n=MAX_RECIPIENTS))
    attachments = []
    for name, content_type, stream in files:
        if not name:
            continue
        data_bytes = stream.read(MAX_ATTACHMENT_BYTES + 1)
        if len(data_bytes) > MAX_ATTACHMENT_BYTES:
            check.fail("attachments", _l("%(name)s is larger than 10 MB.", name=safe_filename(name)))
            continue
        attachments.append((safe_filename(name), _attachment_type(content_type), data_bytes))
    if len(attachments) > MAX_ATTACHMENTS:
        check.fail("attachments", _l("Attach at most %(n)s files.", n=MAX_ATTACHMENTS))
    values = check.done()
    values["attachments"] = attachments
    return values


def _attachment_type(content_type):
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return value if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", value) else \
        "application/octet-stream"


def contact_for(account, addresses):
    """The first contact of `account` among the recipients, or None."""
    if not addresses:
        return None
    rows = {row.email: row.contact for row in (
        ContactEmail.select(ContactEmail, Contact)
        .join(Contact)
        .where((Contact.account == account) & ContactEmail.email.in_(addresses)))}
    return next((rows[a] for a in addresses if a in rows), None)


def send_message(account, author, values, replying_to=None):
    """Queue the message and put it on the account's timeline, both or neither."""
    to, cc = values["to"], values.get("cc", [])
    contact = contact_for(account, to + cc)
    in_reply_to, references, token = "", [], ""
    if replying_to is not None:
        in_reply_to = replying_to.message_id
        references = reply_references(replying_to)
        token = replying_to.reply_token or ""
    quote = replying_to.quote if replying_to is not None and replying_to.quote_id else None
    if quote is not None and not token:
        token = quote.display_number.lower()
    with db.atomic():
        email = queue_email(
            to=to, cc=cc, subject=values["subject"], text=values["body"], kind="reply"
            if replying_to is not None else "message", reply_to=reply_address(token) or None,
            reply_token=token, attachments=values.get("attachments", ()),
            in_reply_to=in_reply_to, references=references, account=account,
            contact=contact, quote=quote, author=author)
        text = " ".join(values["body"].split())
        summary = text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1] + "…"
        entry = record_entry(account, author, {
            "kind": "email_out", "occurred_at": utcnow().replace(microsecond=0),
            "subject": values["subject"][:200], "summary": summary,
            "contacts": [contact.id] if contact else []})
        Email.update(timeline_entry=entry).where(Email.id == email.id).execute()
        email.timeline_entry = entry
    return email


def check_reply_allowed(email):
    """Invalid for a message nobody should answer: ours, automatic, or not on an account."""
    if email.direction != "in":
        raise Invalid({"email": _l("Only a received message can be answered.")})
    if email.is_automatic:
        raise Invalid({"email": _l("Automatic messages are not answered.")})
