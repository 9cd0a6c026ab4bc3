"""Filing one received message: stored whole, deduplicated, matched, on the timeline.

`file_message(raw, mailbox, folder, uidvalidity, uid)` runs inside the caller's transaction
(the poller stores the message and the folder's checkpoint in one `db.atomic()`):

- the raw bytes are stored exactly as fetched; headers, bodies and attachments as parsed
  (mail/parse.py); an attachment over the size limit keeps a row without content (its note:
  "too large, kept in the original message");
- one message is one Email: a second copy (another folder, another mailbox, the same folder
  after a UIDVALIDITY change) only adds an InboundCopy. The key is the Message-ID; the same
  Message-ID with other content (not only other delivery headers) is a distinct message,
  stored under the derived id `<message-id>#<first 8 hex of its sha256>`. A message without a
  Message-ID gets `<sha256 of its content>@no-message-id.invalid`, the content being the
  From, Date and Subject headers and the body — so two deliveries of it (different
  Received/Delivered-To headers) are still one message;
- where it goes (mail/matching.py): a copy of our own mail → `own_copy`; a delivery failure →
  `bounce` (the address marked bouncing when the failure is permanent, a note on the
  timeline); an automatic reply → `auto_reply` (on the timeline when matched, never
  answered); more than RATE_LIMIT automatic messages from one sender within RATE_MINUTES →
  `rate_limited` (kept, no timeline entry); matched → `filed` with an `email_in` entry;
  unmatched → `triage`; unreadable → `unparsed` (kept raw, "try again" with `refile`).
"""
import datetime
import hashlib
import re

from flask_babel import gettext as _
from peewee import fn

from models.accounts import Account
from models.contacts import Contact, ContactEmail
from models.db import db, utcnow
from models.emails import Email, EmailAttachment
from models.inbound import InboundCopy
from models.timeline import (CONTACT_KINDS, TimelineEntry, TimelineParticipant,
                             refresh_last_contact)

RATE_LIMIT = 5          # automatic messages from one sender shown on the timeline …
RATE_MINUTES = 10       # … within this many minutes; the rest are held back
SUMMARY_CHARS = 500     # the timeline entry's summary: the start of the text
ID_LENGTH = 240         # longer Message-IDs are shortened (with a hash, still unique)
AUTOMATIC_STATES = ("auto_reply", "bounce", "rate_limited")


def parse_message(raw):
    from mail import parse
    return parse.parse_message(raw, max_attachment_bytes=parse.MAX_ATTACHMENT_BYTES)


def match(parsed):
    from mail.matching import match as match_parsed
    return match_parsed(parsed)


# ---------------------------------------------------------------------------------------
# Filing

def file_message(raw, mailbox, folder, uidvalidity, uid, now=None):
    """Store one fetched message (or note one more copy of a stored one); its Email.

    The returned Email has `duplicate` set: True when it was already stored.
    """
    raw = bytes(raw)
    now = now or utcnow()
    parsed = parse_message(raw)
    existing, key = _existing_or_key(parsed, raw)
    if existing is not None:
        _record_copy(existing, mailbox, folder, uidvalidity, uid)
        existing.duplicate = True
        return existing
    email = Email(direction="in", kind="", status="received", message_id=key, raw=raw,
                  received_at=now, created_at=now, updated_at=now)
    _fill(email, parsed)
    _route(email, parsed, now)
    email.save(force_insert=True)
    _store_attachments(email, parsed)
    InboundCopy.create(email=email, mailbox=mailbox, folder=folder, uidvalidity=uidvalidity,
                       uid=uid)
    email.duplicate = False
    return email


def refile(email, now=None):
    """Read a stored message again and match it again ("try again"; after a sender is assigned)."""
    now = now or utcnow()
    with db.atomic():
        parsed = parse_message(bytes(email.raw or b""))
        _fill(email, parsed)
        EmailAttachment.delete().where(EmailAttachment.email == email).execute()
        _store_attachments(email, parsed)
        _route(email, parsed, now)
        email.save()
    return email


def message_hash(raw):
    """sha256 of what makes a message itself: From, Date, Subject and the body.

    Delivery headers (Received, Delivered-To, Return-Path, spam scores) differ between two
    deliveries of one message; they are left out.
    """
    data = re.sub(rb"\r\n?", b"\n", raw)
    head, _, body = data.partition(b"\n\n")
    kept = []
    for line in re.sub(rb"\n[ \t]+", b" ", head).split(b"\n"):
        name = line.split(b":", 1)[0].strip().lower()
        if name in (b"from", b"date", b"subject"):
            kept.append(b" ".join(line.split()))
    return hashlib.sha256(b"\n".join(sorted(kept)) + b"\n\n" + body).hexdigest()


def _existing_or_key(parsed, raw):
    """(the stored Email this is a copy of, None) or (None, the id to store it under)."""
    content = parsed.content_hash or hashlib.sha256(raw).hexdigest()
    if not parsed.message_id:
        key = f"{message_hash(raw)}@no-message-id.invalid"
        return _stored(key), key
    key = _short_id(parsed.message_id)
    found = _stored(key, with_hash=True)
    if found is None:
        return None, key
    if found.content_hash == content or message_hash(_raw_of(found)) == message_hash(raw):
        return Email.get_by_id(found.id), key
    derived = f"{key}#{content[:8]}"
    found = _stored(derived)
    return (Email.get_by_id(found.id) if found else None), derived


def _stored(message_id, with_hash=False):
    """The received Email with this id — only its id (and hash): the common case is none."""
    fields = [Email.id, Email.content_hash] if with_hash else [Email.id]
    return (Email.select(*fields)
            .where((Email.direction == "in") & (Email.message_id == message_id))
            .first())


def _raw_of(email):
    return bytes(Email.select(Email.raw).where(Email.id == email.id).scalar() or b"")


def _short_id(message_id):
    if len(message_id) <= ID_LENGTH:
        return message_id
    digest = hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:16]
    return f"{message_id[:ID_LENGTH - 17]}#{digest}"


def _record_copy(email, mailbox, folder, uidvalidity, uid):
    if uid is None:
        return
    exists = (InboundCopy.select(InboundCopy.id)
              .where((InboundCopy.mailbox == mailbox) & (InboundCopy.folder == folder)
                     & (InboundCopy.uidvalidity == uidvalidity) & (InboundCopy.uid == uid))
              .exists())
    if not exists:
        InboundCopy.create(email=email, mailbox=mailbox, folder=folder,
                           uidvalidity=uidvalidity, uid=uid)


def _cut(value, length=255):
    value = value or ""
    return value if len(value) <= length else value[:length]


def _fill(email, parsed):
    """The parsed headers and bodies on the row (the raw bytes are never touched)."""
    email.in_reply_to = _cut(parsed.in_reply_to)
    email.references = " ".join(parsed.references or [])
    email.from_addr = _cut(parsed.from_addr)
    email.to_addrs = ", ".join(parsed.to_addrs or [])
    email.cc_addrs = ", ".join(parsed.cc_addrs or [])
    email.subject = _cut(parsed.subject, 998)
    email.body_text = parsed.text or ""
    email.body_html = parsed.html or ""
    email.content_hash = parsed.content_hash or ""
    email.header_date = parsed.date
    email.thread_index = _cut(parsed.thread_index)
    email.auto_reason = _cut(parsed.auto_reason)
    email.bounce_status = _cut(parsed.bounce.status) if parsed.bounce else ""
    email.parse_error = parsed.error or ""
    tokens = list(getattr(parsed, "tokens", None) or [])
    email.reply_token = _cut(tokens[0]) if tokens else ""
    email.updated_at = utcnow()


def _store_attachments(email, parsed):
    for attachment in parsed.attachments or []:
        EmailAttachment.create(
            email=email, filename=_cut(attachment.filename or "attachment"),
            content_type=_cut(attachment.content_type or "application/octet-stream"),
            size=attachment.size or 0,
            # Over the size limit: the row is the note; the part stays in the raw message.
            content=None if attachment.oversized else attachment.content)


# ---------------------------------------------------------------------------------------
# Where it goes

def _route(email, parsed, now):
    if parsed.error:
        result = None
        email.inbound_state = "unparsed"
        email.matched_by = ""
        email.account = email.contact = email.quote = None
    else:
        result = match(parsed)
        email.account = result.account
        email.contact = result.contact
        email.quote = result.quote
        email.matched_by = result.matched_by or ""
        email.inbound_state = _state(email, parsed, result)
    entry = None
    if email.inbound_state == "bounce":
        entry = _note_bounce(email, parsed, now)
    elif email.inbound_state in ("filed", "auto_reply") and email.account_id:
        entry = _timeline_entry(email, now)
    _replace_entry(email, entry)
    email.updated_at = utcnow()
    return result


def _state(email, parsed, result):
    if result.own_copy:
        return "own_copy"
    automatic = bool(parsed.bounce or parsed.auto_reason)
    if automatic and _burst(email):
        return "rate_limited"
    if parsed.bounce:
        return "bounce"
    if parsed.auto_reason:
        return "auto_reply"
    return "filed" if result.account is not None else "triage"


def _burst(email):
    """More than RATE_LIMIT automatic messages from this sender around this one's time."""
    if not email.from_addr:
        return False
    at = email.header_date or email.received_at or utcnow()
    window = datetime.timedelta(minutes=RATE_MINUTES)
    moment = fn.COALESCE(Email.header_date, Email.received_at)
    earlier = (Email.select(fn.COUNT(Email.id))
               .where((Email.direction == "in") & (Email.from_addr == email.from_addr)
                      & ((Email.auto_reason != "") | (Email.bounce_status != ""))
                      & Email.inbound_state.in_(AUTOMATIC_STATES)
                      & (moment >= at - window) & (moment <= at + window)))
    if email.id:
        earlier = earlier.where(Email.id != email.id)
    earlier = earlier.scalar()
    return earlier >= RATE_LIMIT


def _occurred(email, now):
    at = email.header_date or email.received_at or now
    return min(at, now)


def _timeline_entry(email, now):
    entry = TimelineEntry.create(
        account=email.account_id, kind="email_in", occurred_at=_occurred(email, now),
        subject=_cut(email.subject or _("(no subject)"), 200),
        summary=(email.body_text or "").strip()[:SUMMARY_CHARS], author=None,
        created_at=now, updated_at=now)
    if email.contact_id:
        TimelineParticipant.create(entry=entry, contact=email.contact_id)
    return entry


def _note_bounce(email, parsed, now):
    """Mark the failed addresses bouncing (permanent failures) and note it on the timeline."""
    bounce = parsed.bounce
    recipients = [r.strip().lower() for r in (bounce.recipients or []) if r and r.strip()]
    rows = []
    if recipients:
        rows = list(ContactEmail.select(ContactEmail, Contact)
                    .join(Contact)
                    .where(fn.LOWER(ContactEmail.email).in_(recipients)))
    if bounce.permanent and rows:
        (ContactEmail.update(bouncing=True)
         .where(ContactEmail.id.in_([r.id for r in rows])).execute())
    if rows and email.account_id is None:
        email.account = rows[0].contact.account_id
        email.contact = rows[0].contact
    if email.account_id is None:
        return None
    addresses = ", ".join(recipients) or email.from_addr
    if bounce.permanent:
        subject = _("Delivery failed: %(addresses)s", addresses=addresses)
        summary = _("The mail server reported a permanent failure (%(status)s); the address is "
                    "marked as bouncing.", status=bounce.status or "5.0.0")
    else:
        subject = _("Delivery delayed: %(addresses)s", addresses=addresses)
        summary = _("The mail server reported a temporary failure (%(status)s); it may still "
                    "arrive.", status=bounce.status or "4.0.0")
    entry = TimelineEntry.create(account=email.account_id, kind="note",
                                 occurred_at=_occurred(email, now), subject=_cut(subject, 200),
                                 summary=summary, author=None, created_at=now, updated_at=now)
    for contact_id in {r.contact_id for r in rows if r.contact.account_id == email.account_id}:
        TimelineParticipant.create(entry=entry, contact=contact_id)
    return entry


def _replace_entry(email, entry):
    """Keep one timeline entry per message: a refile replaces the one it had."""
    old = email.timeline_entry_id
    email.timeline_entry = entry
    if old and (entry is None or entry.id != old):
        stale = TimelineEntry.get_or_none(TimelineEntry.id == old)
        Email.update(timeline_entry=None).where(Email.timeline_entry == old).execute()
        if stale is not None:
            account = stale.account
            stale.delete_instance(recursive=True)
            refresh_last_contact(account)
    if entry is not None and old:
        refresh_last_contact(entry.account)
    elif entry is not None:
        _touch_last_contact(entry, email.contact_id)


def _touch_last_contact(entry, contact_id):
    """A new contact moment: move the last-contact dates forward (what refresh_last_contact
    would derive, in two updates instead of reading the timeline)."""
    if entry.kind not in CONTACT_KINDS:
        return
    at = entry.occurred_at
    (Account.update(last_contact_at=at)
     .where((Account.id == entry.account_id)
            & (Account.last_contact_at.is_null() | (Account.last_contact_at < at)))
     .execute())
    if contact_id:
        (Contact.update(last_contact_at=at)
         .where((Contact.id == contact_id)
                & (Contact.last_contact_at.is_null() | (Contact.last_contact_at < at)))
         .execute())


def keep_unreadable(raw, mailbox, folder, uidvalidity, uid, reason, now=None):
    """Filing failed for a reason of ours: keep the bytes, shown in triage with the reason."""
    raw = bytes(raw)
    now = now or utcnow()
    content = hashlib.sha256(raw).hexdigest()
    key = f"{content}@unfiled.invalid"
    email = Email.get_or_none((Email.direction == "in") & (Email.message_id == key))
    if email is not None:
        _record_copy(email, mailbox, folder, uidvalidity, uid)
        email.duplicate = True
        return email
    email = Email.create(direction="in", status="received", message_id=key, raw=raw,
                         content_hash=content, inbound_state="unparsed",
                         parse_error=_cut(reason, 2000), received_at=now, created_at=now,
                         updated_at=now)
    _record_copy(email, mailbox, folder, uidvalidity, uid)
    email.duplicate = False
    return email
