"""Accounts in the browser: creating one through the form, the list's live search and filters."""
import re

import pytest
from playwright.sync_api import expect

from browser.conftest import sign_in
from conftest import make_account

pytestmark = pytest.mark.browser


def test_create_an_account_keeps_the_input_when_a_required_field_is_empty(page, page_watch, user):
    page_watch.expect_status(422, "/accounts/new")
    sign_in(page, user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="New account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New account")

    page.get_by_label("Industry").fill("Bakeries")
    page.get_by_label("City").fill("Utrecht")
    page.get_by_label("Stage").select_option(label="Customer")
    page.get_by_role("button", name="Create account").click()

    name = page.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#name-error")).not_to_be_empty()
    expect(page.locator(".field", has=name)).to_contain_text(page.locator("#name-error").inner_text())
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.get_by_label("Industry")).to_have_value("Bakeries")
    expect(page.get_by_label("City")).to_have_value("Utrecht")
    expect(page.get_by_label("Stage")).to_have_value("customer")

    name.fill("Bakkerij Jansen")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bakkerij Jansen")
    expect(page).to_have_url(re.compile(r"/accounts/\d+$"))
    expect(page).to_have_title("Bakkerij Jansen · Accountable")
    expect(page.get_by_role("status").filter(has_text="Account Bakkerij Jansen created.")).to_be_visible()
    expect(page.locator(".record-meta")).to_contain_text("Customer")
    expect(page.locator(".record-meta")).to_contain_text("Utrecht")


def test_search_as_you_type_keeps_focus_and_cursor_and_the_back_button_works(page, user):
    for name, stage in [("Bakkerij de Vries", "customer"), ("Bakkerij Jansen", "prospect"),
                        ("Slagerij Smit", "customer"), ("Drukwerk Bos", "prospect")]:
        make_account(user, name, stage=stage)
    sign_in(page, user)
    page.goto("/accounts/")
    count = page.locator(".result-count")
    expect(count).to_have_text("4 accounts")
    page.evaluate("window.stillTheSamePage = true")

    search = page.get_by_role("searchbox", name="Search", exact=True)
    # Whole words at once (fill, insert_text): one input event each, so one request and one
    # history entry, however slow the machine; typing letter by letter is the header's test.
    search.fill("erij")
    expect(count).to_have_text("3 accounts")
    expect(page).to_have_url(re.compile(r"[?&]q=erij(&|$)"))

    # Go back to the start of the word and type in front of it: the results change,
    # the caret stays where the user is typing.
    search.press("Home")
    page.keyboard.insert_text("Slag")
    expect(count).to_have_text("1 account")
    results = page.locator("#account-results")
    expect(results.get_by_role("link", name="Slagerij Smit")).to_be_visible()
    expect(results.get_by_role("link", name="Bakkerij Jansen")).to_have_count(0)
    expect(search).to_be_focused()
    expect(search).to_have_value("Slagerij")
    assert search.evaluate("field => [field.selectionStart, field.selectionEnd]") == [4, 4]
    expect(page).to_have_url(re.compile(r"[?&]q=Slagerij(&|$)"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]q=erij(&|$)"))
    expect(count).to_have_text("3 accounts")
    expect(search).to_have_value("erij")

    search.fill("")
    page.get_by_label("Stage").select_option(label="Prospect")
    expect(count).to_have_text("2 accounts")
    expect(results.get_by_role("link", name="Bakkerij Jansen")).to_be_visible()
    expect(results.get_by_role("link", name="Drukwerk Bos")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]stage=prospect(&|$)"))
    assert page.evaluate("window.stillTheSamePage") is True  # never a full page load


def test_an_invalid_edit_comes_back_in_place_with_the_message(page, page_watch, user):
    account = make_account(user, "Bakkerij de Vries", city="Utrecht")
    page_watch.expect_status(422, f"/accounts/{account.id}/edit")
    sign_in(page, user)
    page.goto(f"/accounts/{account.id}")
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Bakkerij de Vries")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("City").fill("Amersfoort")
    website = page.get_by_label("Website")
    website.fill("not a web address")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith(f"/accounts/{account.id}/edit")) as answer:
        page.get_by_role("button", name="Save account").click()
    assert answer.value.status == 422

    expect(page.locator("#website-error")).not_to_be_empty()
    expect(page.get_by_label("Website")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Website")).to_have_value("not a web address")
    expect(page.get_by_label("City")).to_have_value("Amersfoort")
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved")
    expect(page.locator("form#account-form")).to_have_count(1)  # swapped in place, not nested
    expect(page).to_have_url(re.compile(rf"/accounts/{account.id}/edit$"))
    assert page.evaluate("window.stillTheSamePage") is True


# Where an element is on screen: inside the window and below the sticky top bar.
IN_VIEW = """element => {
  const box = element.getBoundingClientRect();
  const bar = document.querySelector('.topbar').getBoundingClientRect();
  return box.height > 0 && box.top >= bar.bottom && box.bottom <= window.innerHeight;
}"""


def test_a_rejected_form_takes_the_user_to_the_first_field_to_fix(page, page_watch, user):
    """Submitted from the bottom of the long form, the 422 swaps in the same form: the cursor
    goes to the empty name and the page scrolls up to it, so the message is seen at once."""
    page_watch.expect_status(422, "/accounts/new")
    sign_in(page, user)
    page.goto("/accounts/new")
    page.get_by_label("City").fill("Utrecht")
    page.get_by_label("Credit and solvency").fill("Pays on time.")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    name = page.get_by_label("Name")
    assert not name.evaluate(IN_VIEW)  # the test starts where the user could not see it
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_role("button", name="Create account").click()

    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    assert name.evaluate(IN_VIEW)  # app.js scrolls, then focuses, in one go
    error = page.locator("#name-error")
    expect(error).not_to_be_empty()
    expect(error).to_be_visible()
    assert error.evaluate(IN_VIEW)
    expect(page.get_by_label("Credit and solvency")).to_have_value("Pays on time.")
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in place


def test_a_refused_save_without_a_field_to_fix_takes_the_user_to_the_message(page, page_watch,
                                                                             user):
    """409: someone else saved the account first; no field is wrong, the banner says why."""
    from models.accounts import Account
    account = make_account(user, "Bakkerij de Vries", city="Utrecht")
    page_watch.expect_status(409, f"/accounts/{account.id}/edit")
    sign_in(page, user)
    page.goto(f"/accounts/{account.id}/edit")
    page.get_by_label("City").fill("Amersfoort")
    Account.update(version=Account.version + 1).where(Account.id == account.id).execute()
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")

    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith(f"/accounts/{account.id}/edit")) as answer:
        page.get_by_role("button", name="Save account").click()
    assert answer.value.status == 409

    banner = page.locator("#account-form .form-banner")
    expect(banner).to_contain_text("Someone else changed this account")
    expect(banner).to_be_focused()
    assert banner.evaluate(IN_VIEW)
    expect(page.get_by_label("City")).to_have_value("Amersfoort")


def test_the_search_box_says_what_it_searches(page, user):
    """The list's search matches names only, so its hint says "Name", not "Name or city"."""
    make_account(user, "Bakkerij de Vries", city="Utrecht")
    make_account(user, "Slagerij Smit", city="Amersfoort")
    sign_in(page, user)
    page.goto("/accounts/")
    search = page.get_by_role("searchbox", name="Search", exact=True)
    expect(search).to_have_attribute("placeholder", "Name")
    count = page.locator(".result-count")

    search.fill("Utrecht")  # a city: not searched
    expect(count).to_have_text("0 accounts")
    search.fill("vries")
    expect(count).to_have_text("1 account")
    expect(page.locator("#account-results").get_by_role("link", name="Bakkerij de Vries")) \
        .to_be_visible()
