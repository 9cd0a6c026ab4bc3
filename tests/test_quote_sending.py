"""Sending a quote: rendered in the quote's language, PDF attached, our own Message-ID,
Reply-To to the shared mailbox with a +token, [Q-…] in the subject; queued, marked sent and
on the timeline in one transaction; delivered to a real SMTP server (aiosmtpd)."""
import io
import re

import pytest
from babel.dates import format_date
from flask_babel import force_locale, gettext

from conftest import login, text_of
from mail.outbox import send_due
from mail.quotes import send_quote
from mail_servers import sendable_quote
from models.db import utcnow
from models.emails import Email
from models.quotes import Quote, revise, submit
from models.timeline import TimelineEntry, TimelineParticipant
from models.validation import Invalid

pytestmark = [pytest.mark.mail, pytest.mark.parametrize("app", [{
    "MAIL_DEFAULT_SENDER": "Sales <sales@example.com>", "MAIL_REPLY_TO": "replies@example.com",
    "MAIL_PLUS_ADDRESSING": True, "BASE_URL": "https://crm.example.com"}], indirect=True)]


def pdf_text(data):
    from pypdf import PdfReader
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\u00a0", " ").split())


def test_a_greek_quote_arrives_with_headers_both_alternatives_and_the_pdf(app, user, smtp_server):
    quote = sendable_quote(user, language="el")
    number = quote.display_number
    email = send_quote(quote, user)
    assert smtp_server.messages == []           # queued, not yet talked to the server
    assert send_due() == {"sent": 1}

    message = smtp_server.messages[0]
    assert message["Message-ID"] == f"<{email.message_id}>"
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", message["Message-ID"])
    with force_locale("el"):
        assert message["Subject"] == gettext("[%(number)s] Quote from %(company)s",
                                             number=number, company="Your Company")
    assert message["Subject"].startswith(f"[{number}] ")
    assert message["Reply-To"] == f"replies+{number.lower()}@example.com"
    assert message["From"] == "Sales <sales@example.com>"
    assert message["To"] == "Anna Papadopoulou <anna@devries.example>"

    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (plain, html):
        assert number in body
        assert "3.166,68" in body                  # the gross total, Greek number format
        assert format_date(quote.valid_until, "long", locale="el") in body
    link = re.search(r"https://crm\.example\.com/q/[\w.-]+", plain).group(0)
    assert f'href="{link}"' in html

    attachments = list(message.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        (f"{number}.pdf", "application/pdf")]
    text = pdf_text(attachments[0].get_content())
    for expected in ("Δρύινο τραπέζι συνεδριάσεων", "Εγκατάσταση και συναρμολόγηση",
                     "Βιβλίο οδηγιών", "1.250,00 €", "2.250,00 €", "273,00 €", "36,00 €",
                     "2.559,00 €", "605,52 €", "2,16 €", "3.166,68 €", number):
        assert expected in text, expected
    with force_locale("el"):
        assert gettext("Total including VAT") in text         # the labels in Greek too
    assert "1.280,00" not in text and "Cost" not in text   # never cost or margin


def test_sending_marks_the_quote_sent_and_puts_the_email_on_the_timeline(app, user):
    quote = sendable_quote(user, language="en")
    email = send_quote(quote, user)
    assert Quote.get_by_id(quote.id).status == "sent"
    stored = Email.get_by_id(email.id)
    assert stored.status == "queued" and stored.kind == "quote"
    assert (stored.quote_id, stored.account_id, stored.contact_id, stored.author_id) == (
        quote.id, quote.account_id, quote.contact_id, user.id)
    assert stored.reply_token == quote.display_number.lower()
    entry = TimelineEntry.get(TimelineEntry.kind == "email_out")
    assert entry.account_id == quote.account_id and entry.author_id == user.id
    assert entry.subject == f"[{quote.display_number}] Quote from Your Company"
    assert "anna@devries.example" in entry.summary and quote.display_number in entry.summary
    assert stored.timeline_entry_id == entry.id
    assert TimelineParticipant.get(TimelineParticipant.entry == entry).contact_id == quote.contact_id
    assert quote.account.__class__.get_by_id(quote.account_id).last_contact_at is not None
    # The English subject and body: money and dates for en (European English).
    # 2,559.00 net + 21 % of 2,523.00 (529.83) + 9 % of 36.00 (3.24) = 3,092.07
    assert "€3,092.07" in stored.body_text and "€2,559.00" in stored.body_text


def test_a_quote_cannot_be_sent_twice(app, user, smtp_server):
    quote = sendable_quote(user)
    send_quote(quote, user)
    with pytest.raises(Invalid):
        send_quote(quote, user)
    with pytest.raises(Invalid):
        send_quote(Quote.get_by_id(quote.id), user)
    send_due()
    assert Email.select().count() == 1 and len(smtp_server.messages) == 1
    assert TimelineEntry.select().where(TimelineEntry.kind == "email_out").count() == 1


def test_an_unapproved_quote_is_not_sent_and_leaves_nothing_behind(app, user):
    from models.quotes import create_quote
    from conftest import make_account, make_contact
    account = make_account(user)
    quote = create_quote(account, user, make_contact(account, emails="a@example.org"))
    with pytest.raises(Invalid):
        send_quote(quote, user)
    assert Email.select().count() == 0 and Quote.get_by_id(quote.id).status == "draft"


def test_a_change_by_someone_else_rolls_the_whole_send_back(app, user):
    quote = sendable_quote(user)
    Quote.update(version=Quote.version + 1).where(Quote.id == quote.id).execute()
    with pytest.raises(Invalid):
        send_quote(quote, user)               # the stale copy: mark_sent refuses
    assert Email.select().count() == 0
    assert TimelineEntry.select().where(TimelineEntry.kind == "email_out").count() == 0
    assert Quote.get_by_id(quote.id).status == "approved"


def test_a_revision_carries_its_revision_number_in_the_subject_and_file(app, user, smtp_server):
    first = sendable_quote(user)
    send_quote(first, user)
    second = revise(Quote.get_by_id(first.id), user)
    submit(second, user)
    assert second.status == "approved"
    email = send_quote(second, user)
    assert email.subject == f"[{first.number}-2] Quote from Your Company"
    assert [a.filename for a in email.attachments] == [f"{first.number}-2.pdf"]
    send_due()
    assert smtp_server.messages[1]["Reply-To"] == f"replies+{first.number.lower()}-2@example.com"


def test_the_send_button_queues_the_email(app, client, user, smtp_server):
    quote = sendable_quote(user)
    login(client, user)
    response = client.post(f"/quotes/{quote.id}/send", data={"version": str(quote.version)})
    assert response.status_code in (200, 303)
    assert Quote.get_by_id(quote.id).status == "sent"
    assert Email.select().where(Email.quote == quote.id).count() == 1
    send_due()
    assert len(smtp_server.messages) == 1


def test_whoever_sends_the_quote_sees_where_its_email_is(app, client, user, smtp_server):
    """The account manager (who may not open the outbox) sees on the quote and on the
    timeline that the email is still queued, refused for now, or delivered."""
    quote = sendable_quote(user)
    send_quote(quote, user)
    login(client, user)
    assert client.get("/outbox/").status_code == 403

    def seen():
        page = text_of(client.get(f"/quotes/{quote.id}"))
        timeline = text_of(client.get(f"/accounts/{quote.account_id}"))
        return page, timeline

    page, timeline = seen()
    assert "Queued" in page and "Waiting for the worker." in page
    assert "waiting for the customer" not in page
    assert "Delivery Queued" in timeline

    smtp_server.handler.reply = "451 4.3.0 Try again later"
    send_due()
    page, timeline = seen()
    assert "Queued" in page and "Next try" in page and "451 4.3.0 Try again later" in page
    assert "451 4.3.0 Try again later" in timeline

    smtp_server.handler.reply = None
    Email.update(next_attempt_at=utcnow()).where(Email.quote == quote.id).execute()
    send_due()
    page, timeline = seen()
    assert "Sent" in page and "waiting for the customer" in page
    assert "Last error" not in page and "Delivery Sent" in timeline


def test_a_greek_name_reads_as_greek_on_the_quote_and_the_timeline(app, client, user):
    """The stored header keeps the name MIME-encoded (the worker splits the list on commas);
    people read it decoded."""
    from models.contacts import Contact
    quote = sendable_quote(user, language="el")
    Contact.update(first_name="Ελένη").where(Contact.id == quote.contact_id).execute()
    send_quote(Quote.get_by_id(quote.id), user)
    stored = Email.get(Email.quote == quote.id)
    assert "=?utf-8?" in stored.to_addrs
    login(client, user)
    for url in (f"/quotes/{quote.id}", f"/accounts/{quote.account_id}"):
        page = text_of(client.get(url))
        assert "Ελένη Papadopoulou &lt;anna@devries.example&gt;" in page, url
        assert "=?utf-8?" not in page
