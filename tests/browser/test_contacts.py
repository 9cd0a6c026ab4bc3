"""Adding a contact from the account page."""
import re

import pytest
from playwright.sync_api import expect

from browser.conftest import sign_in
from conftest import make_account

pytestmark = pytest.mark.browser


def test_add_a_contact_from_the_account_page(page, page_watch, user):
    account = make_account(user, "Bakkerij de Vries")
    page_watch.expect_status(422, f"/contacts/new/{account.id}")
    sign_in(page, user)
    page.goto(f"/accounts/{account.id}")
    dmu = page.locator("#dmu")
    expect(dmu).to_contain_text("No contacts yet")
    page.locator(".record-header").get_by_role("link", name="Add contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New contact")

    page.get_by_label("First name").fill("Marieke")
    page.get_by_label("Position").fill("Head of purchasing")
    page.get_by_label("Role in the decision-making unit").select_option(label="Decision maker")
    page.get_by_label("Email addresses").fill("marieke@devries.example")
    page.get_by_role("button", name="Add contact").click()
    last_name = page.get_by_label("Last name")
    expect(last_name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#last_name-error")).not_to_be_empty()
    expect(page.get_by_label("First name")).to_have_value("Marieke")
    expect(page.get_by_label("Email addresses")).to_have_value("marieke@devries.example")

    last_name.fill("Jansen")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Marieke Jansen")
    expect(page).to_have_url(re.compile(r"/contacts/\d+$"))
    expect(page.locator(".record-meta")).to_contain_text("Decision maker")
    expect(page.locator(".record-meta")).to_contain_text("Head of purchasing")

    page.locator(".record-meta").get_by_role("link", name="Bakkerij de Vries").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bakkerij de Vries")
    group = dmu.locator(".dmu-group").filter(has=page.get_by_role("heading", name="Decision maker"))
    expect(group.get_by_role("link", name="Marieke Jansen")).to_be_visible()
    expect(group).to_contain_text("marieke@devries.example")
