"""Filing one received message (mail/inbound.py): stored whole and once, matched, on the timeline.

No IMAP server here: `file_message` is given the bytes the poller fetched (the poller's own
tests run against real servers)."""
import datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from conftest import make_account, make_contact
from mail import parse
from mail.inbound import file_message, message_hash, refile
from models.contacts import ContactEmail
from models.db import db
from models.emails import Email, EmailAttachment
from models.inbound import InboundCopy, Mailbox
from models.timeline import TimelineEntry

CORPUS = Path(__file__).parent / "mail_corpus"
SENDER = "anna@devries.example"
WHEN = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.timezone.utc)


def raw_message(message_id="m1@devries.example", sender=SENDER, subject="Order of bread",
                body="Please send 40 loaves on Friday.\r\nAnna", headers="", date=WHEN):
    lines = [f"From: Anna Jansen <{sender}>", "To: sales@example.com", f"Subject: {subject}",
             f"Date: {format_datetime(date)}"]
    if message_id:
        lines.append(f"Message-ID: <{message_id}>")
    return ("\r\n".join(lines) + "\r\n" + headers + "\r\n" + body + "\r\n").encode()


@pytest.fixture
def mailbox(app):
    return Mailbox.create(name="Sales", host="imap.example.com", username="sales@example.com",
                          password="x")


@pytest.fixture
def customer(user):
    account = make_account(user)
    return account, make_contact(account, emails=SENDER)


def file(raw, mailbox, uid, folder="INBOX", uidvalidity=7):
    with db.atomic():
        return file_message(raw, mailbox, folder, uidvalidity, uid)


def entries(kind="email_in"):
    return list(TimelineEntry.select().where(TimelineEntry.kind == kind))


def test_a_message_from_a_contact_goes_on_the_timeline(mailbox, customer):
    account, contact = customer
    raw = raw_message()

    email = file(raw, mailbox, 1)

    assert not email.duplicate
    email = Email.get_by_id(email.id)
    assert (email.direction, email.status, email.inbound_state) == ("in", "received", "filed")
    assert (email.account_id, email.contact_id, email.matched_by) == (account.id, contact.id,
                                                                       "sender")
    assert bytes(email.raw) == raw
    assert email.message_id == "m1@devries.example"
    assert email.header_date == datetime.datetime(2026, 3, 2, 9, 30)
    [entry] = entries()
    assert email.timeline_entry_id == entry.id
    assert (entry.account_id, entry.subject) == (account.id, "Order of bread")
    assert entry.summary == "Please send 40 loaves on Friday.\nAnna"
    assert entry.occurred_at == datetime.datetime(2026, 3, 2, 9, 30)
    assert [p.contact_id for p in entry.participants] == [contact.id]
    account = type(account).get_by_id(account.id)
    assert account.last_contact_at == entry.occurred_at
    [copy] = InboundCopy.select()
    assert (copy.email_id, copy.folder, copy.uidvalidity, copy.uid) == (email.id, "INBOX", 7, 1)


def test_an_unknown_sender_waits_in_triage(mailbox, customer):
    email = file(raw_message(sender="someone@elsewhere.example"), mailbox, 1)

    email = Email.get_by_id(email.id)
    assert email.inbound_state == "triage" and email.account_id is None
    assert email.timeline_entry_id is None and entries() == []


def test_a_second_copy_only_adds_an_inbound_copy(mailbox, customer):
    raw = raw_message()
    first = file(raw, mailbox, 1)

    second = file(raw, mailbox, 5, folder="Sales")
    third = file(b"Delivered-To: orders@example.com\r\nReceived: from mx\r\n" + raw, mailbox, 6)

    assert second.duplicate and third.duplicate
    assert second.id == third.id == first.id
    assert Email.select().count() == 1 and len(entries()) == 1
    assert InboundCopy.select().count() == 3
    assert file(raw, mailbox, 5, folder="Sales").duplicate   # the same copy again: no new row
    assert InboundCopy.select().count() == 3


def test_the_same_message_id_on_other_content_is_another_message(mailbox, customer):
    first = file(raw_message(body="First text"), mailbox, 1)
    other = raw_message(body="Entirely different text")

    second = file(other, mailbox, 2)

    assert not second.duplicate and second.id != first.id
    assert second.message_id == f"m1@devries.example#{message_hash(other)[:8]}"
    assert file(other, mailbox, 3).id == second.id       # and that one is deduplicated too
    # … also when it arrives a second time through another relay (other delivery headers).
    assert file(b"Received: from another relay\r\n" + other, mailbox, 4).id == second.id
    assert Email.select().count() == 2 and len(entries()) == 2


@pytest.mark.parametrize("raw_id", [b"bestelling-caf\xc3\xa9@devries.example",
                                    b"bestelling-caf\xe9@devries.example"])
def test_an_8bit_message_id_is_stored_as_the_parser_reads_it_and_threads(mailbox, customer,
                                                                          raw_id):
    """The poller keys a message before parsing it; that key must be the id a reply's
    In-Reply-To is compared with after parsing, whatever bytes the id holds."""
    original = raw_message(message_id="placeholder@x").replace(b"placeholder@x", raw_id)
    first = file(original, mailbox, 1)
    assert first.message_id == parse.parse_message(original).message_id
    other_sender = make_contact(make_account(customer[0].owner, "Other Ltd"),
                                emails="someone@other.example")
    reply = raw_message(message_id="reply-1@other.example", sender="someone@other.example",
                        headers="In-Reply-To: <" + raw_id.decode("latin-1") + ">\r\n")
    reply = reply.replace(raw_id.decode("latin-1").encode("utf-8"), raw_id)

    second = file(reply, mailbox, 2)

    assert second.matched_by == "thread" and second.account_id == customer[0].id
    assert other_sender.account_id != customer[0].id


def test_without_message_id_the_content_is_the_key(mailbox, customer):
    raw = raw_message(message_id=None)

    first = file(raw, mailbox, 1)
    again = file(b"Received: from another relay\r\n" + raw, mailbox, 2)
    other = file(raw_message(message_id=None, body="Something else"), mailbox, 3)

    assert first.message_id == f"{message_hash(raw)}@no-message-id.invalid"
    assert again.duplicate and again.id == first.id
    assert not other.duplicate and other.id != first.id


def test_our_own_sent_copy_is_not_filed_twice(mailbox, customer):
    account, contact = customer
    Email.create(direction="out", status="sent", message_id="ours-1@example.com",
                 from_addr="sales@example.com", to_addrs=SENDER, subject="Your quote",
                 account=account)
    raw = raw_message(message_id="ours-1@example.com", sender="sales@example.com",
                      subject="Your quote")

    email = file(raw, mailbox, 1, folder="Sent")

    assert Email.get_by_id(email.id).inbound_state == "own_copy"
    assert entries() == []


def test_a_hard_bounce_marks_the_address_and_notes_it(mailbox, user):
    account = make_account(user)
    contact = make_contact(account, emails="anna@bakkerij-devries.nl")

    email = file((CORPUS / "dsn_hard.eml").read_bytes(), mailbox, 1)

    email = Email.get_by_id(email.id)
    assert email.inbound_state == "bounce" and email.bounce_status == "5.1.1"
    assert ContactEmail.get(ContactEmail.contact == contact).bouncing
    [note] = entries("note")
    assert note.account_id == account.id and email.timeline_entry_id == note.id
    assert note.subject == "Delivery failed: anna@bakkerij-devries.nl"
    assert entries() == []


def test_a_soft_bounce_notes_a_delay_without_marking_the_address(mailbox, user):
    account = make_account(user)
    contact = make_contact(account, emails="anna@bakkerij-devries.nl")

    email = file((CORPUS / "dsn_soft.eml").read_bytes(), mailbox, 1)

    assert Email.get_by_id(email.id).inbound_state == "bounce"
    assert not ContactEmail.get(ContactEmail.contact == contact).bouncing
    [note] = entries("note")
    assert note.subject.startswith("Delivery delayed")


def test_auto_replies_are_shown_and_a_burst_is_held_back(mailbox, customer):
    def auto_reply(n):
        return raw_message(message_id=f"ooo{n}@devries.example", subject="Out of office",
                           headers="Auto-Submitted: auto-replied\r\n",
                           date=WHEN + datetime.timedelta(minutes=n))

    states = [Email.get_by_id(file(auto_reply(n), mailbox, n + 1).id).inbound_state
              for n in range(8)]

    assert states == ["auto_reply"] * 5 + ["rate_limited"] * 3
    assert len(entries()) == 5
    # Much later the same sender's automatic mail is shown again.
    later = raw_message(message_id="ooo-later@devries.example", subject="Out of office",
                        headers="Auto-Submitted: auto-replied\r\n",
                        date=WHEN + datetime.timedelta(hours=5))
    assert Email.get_by_id(file(later, mailbox, 20).id).inbound_state == "auto_reply"


def test_an_unreadable_message_is_kept_raw_in_triage(mailbox, customer):
    raw = b"\x00\x01 not a message at all"

    email = file(raw, mailbox, 1)

    email = Email.get_by_id(email.id)
    assert email.inbound_state == "unparsed" and email.parse_error
    assert bytes(email.raw) == raw and entries() == []
    refile(email)                                  # "try again": still unreadable, still kept
    assert Email.get_by_id(email.id).inbound_state == "unparsed"


def test_refile_after_the_sender_became_a_contact(mailbox, user):
    account = make_account(user)
    email = file(raw_message(sender="piet@devries.example"), mailbox, 1)
    assert Email.get_by_id(email.id).inbound_state == "triage"
    contact = make_contact(account, last_name="Piet", emails="piet@devries.example")

    refile(Email.get_by_id(email.id))

    email = Email.get_by_id(email.id)
    assert (email.inbound_state, email.account_id, email.contact_id) == ("filed", account.id,
                                                                         contact.id)
    [entry] = entries()
    assert email.timeline_entry_id == entry.id
    refile(email)                                   # again: still one entry
    assert len(entries()) == 1


def test_an_oversized_attachment_keeps_a_row_without_content(mailbox, customer, monkeypatch):
    monkeypatch.setattr(parse, "MAX_ATTACHMENT_BYTES", 2000)
    small = "c21hbGw=\r\n"                              # "small"
    large = ("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"
             * 60)
    body = ("--b\r\nContent-Type: text/plain\r\n\r\nTwo files.\r\n"
            "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
            "filename=small.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n" + small +
            "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            "filename=large.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + large +
            "--b--")
    raw = raw_message(headers='MIME-Version: 1.0\r\nContent-Type: multipart/mixed; '
                              'boundary="b"\r\n', body=body)

    email = file(raw, mailbox, 1)

    files = {a.filename: a for a in EmailAttachment.select().where(
        EmailAttachment.email == email.id)}
    assert bytes(files["small.txt"].content) == b"small"
    assert files["large.pdf"].content is None and files["large.pdf"].size > 2000
    assert bytes(Email.get_by_id(email.id).raw) == raw     # the part is still in the original


def test_nothing_stays_when_the_callers_transaction_rolls_back(mailbox, customer):
    with pytest.raises(RuntimeError):
        with db.atomic():
            file_message(raw_message(), mailbox, "INBOX", 7, 1)
            raise RuntimeError("the checkpoint could not be saved")

    assert Email.select().count() == 0 and InboundCopy.select().count() == 0
    assert entries() == []


def test_storing_works_where_insert_cannot_return_rows(mailbox, customer, monkeypatch):
    """SQLite before 3.35 has no RETURNING: the new rows' ids are read back instead."""
    import mail.inbound
    monkeypatch.setattr(mail.inbound, "can_return_rows", lambda: False)
    first = file(raw_message(), mailbox, 1)
    again = file(raw_message(), mailbox, 2, folder="Sales")

    assert not first.duplicate and first.inbound_state == "filed"
    assert again.duplicate and again.id == first.id
    assert InboundCopy.select().where(InboundCopy.email == first.id).count() == 2
