"""Logging in through the real form."""
import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_wrong_password_is_told_at_the_field_then_the_right_one_opens_my_day(page, page_watch):
    user = make_user(name="Anna de Vries")
    page_watch.expect_status(422, "/login")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/"))  # sent to the login page first

    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_have_text(
        "That email address and password do not match.")
    expect(page.get_by_label("Email address")).to_have_value(user.email)  # kept
    expect(password).to_have_value("")  # never echoed back

    password.fill(PASSWORD)
    password.press("Enter")  # forms submit with Enter
    expect(page).to_have_title("My day · Accountable")
    expect(page.get_by_role("heading", level=1)).to_have_text("Good to see you, Anna")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="My day")) \
        .to_have_attribute("aria-current", "page")
