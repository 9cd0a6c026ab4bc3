"""The round trip: a quote goes out through SMTP (aiosmtpd), the customer's reply lands in the
shared mailbox (a real IMAP server), one poll files it, and in Chromium it stands threaded on
the account's timeline — sanitised, its history folded — and turns the quote into "accepted"
with one click."""
import email.utils

import pytest
from playwright.sync_api import expect

from browser.conftest import sign_in
from mail.outbox import send_due
from mail.poller import poll_mailbox
from mail.quotes import send_quote
from mail_servers import sendable_quote
from models.emails import Email
from models.inbound import Mailbox
from models.quotes import Quote

pytestmark = [pytest.mark.browser, pytest.mark.mail]


def customer_reply(sent, quote_text):
    """What Anna's mail program sends back: a reply in the thread, text and HTML."""
    ours = sent["Message-ID"]
    return (
        "From: Anna Jansen <anna@devries.example>\r\n"
        f"To: {sent['Reply-To']}\r\n"
        f"Subject: Re: {sent['Subject']}\r\n"
        f"Date: {email.utils.formatdate()}\r\n"
        "Message-ID: <reply-1@devries.example>\r\n"
        f"In-Reply-To: {ours}\r\n"
        f"References: {ours}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Yes, we accept. Please deliver on Friday.\r\n\r\n"
        "On Mon, 2 Mar 2026 at 10:00, Sales <sales@example.com> wrote:\r\n"
        f"> {quote_text}\r\n"
        "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<div>Yes, we accept. Please deliver on <b>Friday</b>.</div>"
        '<img src="https://tracker.example/open.gif" onerror="alert(1)">'
        "<script>alert('xss')</script>"
        '<div class="gmail_quote">On Mon, 2 Mar 2026 at 10:00, Sales wrote:'
        f"<blockquote>{quote_text}</blockquote></div>\r\n"
        "--b1--\r\n").encode()


def test_a_customer_reply_comes_back_threaded(app, page, live_server, user, smtp_server,
                                              pymap_server):
    app.config.update(BASE_URL=live_server, MAIL_REPLY_TO="sales@example.com",
                      MAIL_PLUS_ADDRESSING=True)
    quote = sendable_quote(user, language="en")
    send_quote(quote, user)
    assert send_due() == {"sent": 1}
    sent = smtp_server.messages[0]
    assert sent["Reply-To"] == f"sales+{quote.display_number.lower()}@example.com"

    pymap_server.append(customer_reply(sent, "Here is our quote for the oak tables."))
    mailbox = Mailbox.create(**pymap_server.mailbox_values())
    report = poll_mailbox(mailbox)
    assert report.ok, report.lines()
    reply = Email.get((Email.direction == "in") & (Email.message_id == "reply-1@devries.example"))
    assert (reply.inbound_state, reply.matched_by, reply.account_id, reply.quote_id) == \
        ("filed", "thread", quote.account_id, quote.id)

    sign_in(page, user)
    page.goto(f"/accounts/{quote.account_id}")
    entry = page.locator(f"#entry-{reply.timeline_entry_id}")
    expect(entry).to_contain_text("Yes, we accept. Please deliver on Friday.")
    expect(entry).to_contain_text("reply in a thread")
    expect(entry).to_contain_text("anna@devries.example")
    # The quoted history is folded: there, but not shown until opened.
    history = entry.locator("details.email-quoted")
    expect(history.get_by_text("Here is our quote for the oak tables.")).to_be_hidden()
    history.locator("summary").click()
    expect(history.get_by_text("Here is our quote for the oak tables.")).to_be_visible()
    # Remote images wait; the script never ran (the page watch fails the test on any error).
    expect(entry).to_contain_text("1 remote image was not loaded.")
    assert entry.locator("img[src]").count() == 0  # the <img> stays, without its source
    assert entry.locator("script").count() == 0

    entry.get_by_role("button", name=f"Mark quote {quote.display_number} accepted").click()
    expect(page.locator(f"#entry-{reply.timeline_entry_id}")).to_contain_text(
        f"Quote {quote.display_number} marked accepted.")
    assert Quote.get_by_id(quote.id).status == "accepted"
    assert Quote.get_by_id(quote.id).accepted_by_name == "Anna Jansen"
