"""From the link in the email the customer received to "accepted" on the account's timeline."""
import re

import pytest
from playwright.sync_api import expect

from browser.conftest import sign_in
from mail.outbox import send_due
from mail.quotes import send_quote
from mail_servers import sendable_quote

pytestmark = [pytest.mark.browser, pytest.mark.mail]


def test_the_customer_accepts_from_the_emailed_link(app, page, page_watch, live_server, user,
                                                   smtp_server):
    app.config["BASE_URL"] = live_server
    quote = sendable_quote(user, language="en")
    send_quote(quote, user)
    assert send_due() == {"sent": 1}
    body = smtp_server.messages[0].get_body(("plain",)).get_content()
    link = re.search(re.escape(live_server) + r"/q/[\w.-]+", body).group(0)

    page_watch.expect_status(422, "/q/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Quote {quote.display_number}")
    expect(page.locator(".quote-document")).to_contain_text("Oak meeting table")
    expect(page.locator(".quote-document")).to_contain_text("€3,092.07")
    page.get_by_role("button", name="Accept quote").click()          # no name yet
    expect(page.locator("#name-error")).to_have_text("This field is required.")
    page.get_by_label("Your name").fill("Anna Jansen")
    page.get_by_label("Purchase order number (optional)").fill("PO-4711")
    page.get_by_role("button", name="Accept quote").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Anna Jansen.")
    expect(page.locator(".public-answer")).to_contain_text("PO-4711")

    sign_in(page, user)
    page.goto(f"/accounts/{quote.account_id}")
    expect(page.locator("body")).to_contain_text(
        f"Quote {quote.display_number} accepted by Anna Jansen")
