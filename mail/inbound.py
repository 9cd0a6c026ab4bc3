"""Received mail, in two steps: stored whole first, then filed.

1. `store_messages(fetched, mailbox, folder, uidvalidity)` — one fetched batch, inside the
   poller's transaction (which also moves the folder's checkpoint): each message's original
   bytes are stored exactly as fetched, as `pending`. Only its header block is read here, for
   the key that recognises a second copy. One message is one Email: a second copy (another
   folder, another mailbox, the same folder after a UIDVALIDITY change) only adds an
   InboundCopy. The key is the Message-ID; the same Message-ID with other content (not only
   other delivery headers) is a distinct message, stored under the derived id
   `<message-id>#<first 8 hex of its sha256>`. A message without a Message-ID gets
   `<sha256 of its content>@no-message-id.invalid`, the content being the From, Date and
   Subject headers and the body — so two deliveries of it are still one message.
   Storing is a few queries per batch, not per message: the mailbox is drained at nearly the
   speed of the fetch, and nothing fetched depends on our parser or matcher working.
2. `file_pending()` — each pending message in the order it was stored, one transaction
   each: parsed (mail/parse.py), headers, bodies and attachments on the row (an attachment
   over the size limit keeps a row without content, its note: "too large, kept in the
   original message"), matched (mail/matching.py) and put on the timeline. A message is
   claimed by a conditional UPDATE, so two pollers never file it twice; killed halfway, it
   stays pending and the next run files it. Where it goes: a copy of our own mail →
   `own_copy`; a delivery failure → `bounce` (the address marked bouncing when the failure
   is permanent, a note on the timeline); an automatic reply → `auto_reply` (on the
   timeline when matched, never answered); more than RATE_LIMIT automatic messages from one
   sender within RATE_MINUTES → `rate_limited` (kept, no timeline entry); matched → `filed`
   with an `email_in` entry; unmatched → `triage`; unreadable, or filing failed →
   `unparsed` (kept raw with the reason, "try again" with `refile`).

`file_message(raw, …)` does both for one message (tests, and anything that has one message).
"""
import datetime
import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from peewee import InterfaceError, OperationalError, fn

from models.accounts import Account
from models.contacts import Contact, ContactEmail
from models.db import can_return_rows, insert_rows, utcnow, write_transaction
from models.emails import Email, EmailAttachment
from models.inbound import InboundCopy
from models.timeline import (CONTACT_KINDS, TimelineEntry, TimelineParticipant,
                             refresh_last_contact)

log = logging.getLogger(__name__)

RATE_LIMIT = 5          # automatic messages from one sender shown on the timeline …
RATE_MINUTES = 10       # … within this many minutes; the rest are held back
SUMMARY_CHARS = 500     # the timeline entry's summary: the start of the text
ID_LENGTH = 240         # longer Message-IDs are shortened (with a hash, still unique)
AUTOMATIC_STATES = ("auto_reply", "bounce", "rate_limited")
FILE_CHUNK = 200        # pending ids read at a time
# What filing writes on the row: never the raw bytes, which were stored once.
FILED_FIELDS = ("in_reply_to", "references", "from_addr", "to_addrs", "cc_addrs", "subject",
                "body_text", "body_html", "content_hash", "header_date", "thread_index",
                "auto_reason", "bounce_status", "parse_error", "reply_token", "account",
                "contact", "quote", "matched_by", "inbound_state", "timeline_entry",
                "updated_at")


def parse_message(raw):
    from mail import parse
    return parse.parse_message(raw, max_attachment_bytes=parse.MAX_ATTACHMENT_BYTES)


def match(parsed):
    from mail.matching import match as match_parsed
    return match_parsed(parsed)


# ---------------------------------------------------------------------------------------
# 1. Storing

@dataclass
class Stored:
    """What storing one batch did: how many messages were new, how many copies of stored
    ones, and the Email id of each fetched message in order."""
    new: int = 0
    duplicates: int = 0
    email_ids: list = field(default_factory=list)


def store_messages(fetched, mailbox, folder, uidvalidity, now=None):
    """Store the (uid, raw bytes) of one batch, in UID order, inside the caller's
    transaction; a Stored. New messages are `pending` until `file_pending` files them."""
    now = now or utcnow()
    result = Stored()
    if not fetched:
        return result
    keyed = [(uid, raw, _key_of(raw)) for uid, raw in fetched]
    known = _stored_rows({key for _, _, (key, _) in keyed})
    copies, new_rows = [], {}
    for uid, raw, (key, content) in keyed:
        key = _resolve(key, content, raw, known, new_rows)
        if key in new_rows or key in known:
            result.duplicates += 1
        else:
            new_rows[key] = dict(direction="in", kind="", status="received", message_id=key,
                                 raw=raw, content_hash=content, inbound_state="pending",
                                 received_at=now, created_at=now, updated_at=now)
            result.new += 1
        copies.append((uid, key))
    if new_rows and can_return_rows():
        inserted = insert_rows(Email, list(new_rows.values()),
                               returning=(Email.id, Email.message_id, Email.content_hash))
        known.update({key: (email_id, content) for email_id, key, content in inserted})
    elif new_rows:
        insert_rows(Email, list(new_rows.values()))
        known.update(_stored_rows(set(new_rows)))
    _record_copies(copies, known, mailbox, folder, uidvalidity)
    result.email_ids = [known[key][0] for _, key in copies]
    return result


def _key_of(raw):
    """(the key to store a message under, sha256 of its bytes) — from the header block only."""
    from mail.parse import header_message_id
    content = hashlib.sha256(raw).hexdigest()
    message_id = header_message_id(raw)
    if not message_id:
        return f"{message_hash(raw)}@no-message-id.invalid", content
    return _short_id(message_id), content


def _stored_rows(keys):
    """{message_id: (id, content hash)} of the received mail stored under these keys."""
    if not keys:
        return {}
    rows = (Email.select(Email.id, Email.message_id, Email.content_hash)
            .where((Email.direction == "in") & Email.message_id.in_(list(keys)))
            .tuples())
    return {message_id: (email_id, content) for email_id, message_id, content in rows}


def _resolve(key, content, raw, known, new_rows):
    """The key this message is stored under: its own, or the derived one when another
    message with other content has the same Message-ID."""
    if key.endswith("@no-message-id.invalid"):
        return key              # the key is a hash of the content already
    if key in new_rows:
        earlier = new_rows[key]["raw"]
        same = new_rows[key]["content_hash"] == content or message_hash(earlier) == message_hash(raw)
    elif key in known:
        email_id, stored_content = known[key]
        same = stored_content == content or message_hash(_raw_of(email_id)) == message_hash(raw)
    else:
        return key
    if same:
        return key
    # Named by what makes the message itself (not its delivery headers), so a second
    # delivery of this other message finds it under the same derived key.
    derived = f"{key}#{message_hash(raw)[:8]}"
    if derived not in new_rows and derived not in known:
        known.update(_stored_rows({derived}))
    return derived


def _raw_of(email_id):
    return bytes(Email.select(Email.raw).where(Email.id == email_id).scalar() or b"")


def _record_copies(copies, known, mailbox, folder, uidvalidity):
    """One InboundCopy per fetched UID (a copy seen before is not recorded twice)."""
    uids = [uid for uid, _ in copies if uid is not None]
    if not uids:
        return
    seen = {uid for (uid,) in (InboundCopy.select(InboundCopy.uid)
                               .where((InboundCopy.mailbox == mailbox)
                                      & (InboundCopy.folder == folder)
                                      & (InboundCopy.uidvalidity == uidvalidity)
                                      & InboundCopy.uid.in_(uids))
                               .tuples())}
    rows = [dict(email=known[key][0], mailbox=mailbox.id, folder=folder,
                 uidvalidity=uidvalidity, uid=uid)
            for uid, key in copies if uid is not None and uid not in seen]
    insert_rows(InboundCopy, rows)


# ---------------------------------------------------------------------------------------
# 2. Filing

def file_pending(now=None):
    """File every pending message, oldest first; a Counter of where they went."""
    states = Counter()
    after = 0
    while True:
        ids = [i for (i,) in (Email.select(Email.id)
                              .where((Email.direction == "in")
                                     & (Email.inbound_state == "pending")
                                     & (Email.id > after))
                              .order_by(Email.id)
                              .limit(FILE_CHUNK)
                              .tuples())]
        if not ids:
            return states
        for email_id in ids:
            email = file_stored(email_id, now)
            if email is not None:
                states[email.inbound_state] += 1
        after = ids[-1]


def file_stored(email_id, now=None):
    """Parse, match and file one pending message in its own transaction; the Email, or None
    when another poller filed it first."""
    now = now or utcnow()
    raw, received_at = (Email.select(Email.raw, Email.received_at)
                        .where(Email.id == email_id).tuples().get())
    parsed = parse_message(bytes(raw or b""))   # outside the transaction: no lock held
    try:
        with write_transaction():
            if not _claim(email_id):
                return None
            # All a pending row holds besides its bytes; filing writes FILED_FIELDS only.
            email = Email(id=email_id, direction="in", status="received",
                          received_at=received_at)
            _file_parsed(email, parsed, now)
            return email
    except (OperationalError, InterfaceError):
        raise                   # the database itself: the message stays pending
    except Exception as error:  # noqa: BLE001 — a bug in filing must not stop the rest
        log.exception("Filing received message %s failed; kept raw", email_id)
        reason = f"{type(error).__name__}: {error}"
        with write_transaction():
            kept = (Email.update(inbound_state="unparsed", parse_error=_cut(reason, 2000),
                                 updated_at=utcnow())
                    .where((Email.id == email_id) & (Email.inbound_state == "pending"))
                    .execute())
        if not kept:
            return None         # another poller filed it meanwhile
        return Email.select(Email.id, Email.inbound_state).where(Email.id == email_id).get()


def _claim(email_id):
    """Take a pending message for filing: on PostgreSQL the row stays locked until commit,
    so a second poller's claim waits and then finds it filed; SQLite's write lock
    (write_transaction) serialises them outright."""
    return (Email.update(inbound_state="filing")
            .where((Email.id == email_id) & (Email.inbound_state == "pending"))
            .execute()) == 1


def _file_parsed(email, parsed, now):
    _fill(email, parsed)
    _store_attachments(email, parsed)
    _route(email, parsed, now)
    email.save(only=[Email._meta.fields[name] for name in FILED_FIELDS])


def file_message(raw, mailbox, folder, uidvalidity, uid, now=None):
    """Store one message and file it (when it is new); its Email, with `duplicate` set."""
    raw = bytes(raw)
    now = now or utcnow()
    with write_transaction():
        stored = store_messages([(uid, raw)], mailbox, folder, uidvalidity, now)
    email_id = stored.email_ids[0]
    if stored.new:
        file_stored(email_id, now)
    email = Email.get_by_id(email_id)
    email.duplicate = not stored.new
    return email


def refile(email, now=None):
    """Read a stored message again and match it again ("try again"; after a sender is assigned)."""
    now = now or utcnow()
    parsed = parse_message(bytes(_raw_of(email.id)))    # before the write lock is taken
    with write_transaction():
        EmailAttachment.delete().where(EmailAttachment.email == email).execute()
        _file_parsed(email, parsed, now)
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


def _short_id(message_id):
    if len(message_id) <= ID_LENGTH:
        return message_id
    digest = hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:16]
    return f"{message_id[:ID_LENGTH - 17]}#{digest}"


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
