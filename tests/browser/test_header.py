"""The top bar: global search as you type, the "/" shortcut, the language in the user menu."""
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from browser.conftest import sign_in
from conftest import make_account, make_contact

pytestmark = pytest.mark.browser

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def test_global_search_shows_live_results_and_opens_one(page, user):
    account = make_account(user, "Bakkerij de Vries", city="Utrecht")
    make_account(user, "Slagerij Smit")
    make_contact(account, first_name="Marieke", last_name="Bakker")
    sign_in(page, user)
    page.evaluate("window.stillTheSamePage = true")
    search = page.get_by_role("searchbox", name="Search accounts and contacts")
    search.press_sequentially("bakk")

    results = page.locator("#global-results")
    expect(results.get_by_role("link", name=re.compile("^Bakkerij de Vries"))).to_be_visible()
    expect(results.get_by_role("link", name=re.compile("^Marieke Bakker"))).to_be_visible()
    expect(results.get_by_role("link", name=re.compile("^Slagerij Smit"))).to_have_count(0)
    expect(search).to_be_focused()
    expect(page).to_have_title("My day · Accountable")  # results in place: no navigation
    assert page.evaluate("window.stillTheSamePage") is True

    results.get_by_role("link", name=re.compile("^Bakkerij de Vries")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bakkerij de Vries")
    expect(page).to_have_url(re.compile(rf"/accounts/{account.id}$"))


def test_slash_focuses_search(page, user):
    sign_in(page, user)
    header_search = page.get_by_role("searchbox", name="Search accounts and contacts")
    expect(header_search).not_to_be_focused()
    page.locator("body").press("/")
    expect(header_search).to_be_focused()
    expect(header_search).to_have_value("")  # the slash is a shortcut, not typed

    page.goto("/accounts/")  # a page with its own search: "/" goes there
    page.locator("body").press("/")
    expect(page.get_by_role("searchbox", name="Search", exact=True)).to_be_focused()


def _translation(language, english):
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        message = read_po(handle).get(english)
    if message is None or not message.string or message.fuzzy:
        return None  # untranslated (or fuzzy, which compiling leaves out)
    return message.string


@pytest.mark.parametrize("language, label", [("nl", "Nederlands"), ("el", "Ελληνικά")])
def test_switch_language_from_the_user_menu(page, user, language, label):
    sign_in(page, user)
    top_bar = page.get_by_role("banner")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(top_bar.get_by_role("link", name="Accounts", exact=True)).to_be_visible()
    top_bar.get_by_text(user.name, exact=True).click()  # open the user menu
    menu = page.locator(".usermenu-panel")
    menu.get_by_label("Language").select_option(label=label)
    menu.get_by_role("button", name="Switch").click()

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page).to_have_url(re.compile(r"/(\?)?$"))  # back where the user was
    translated = _translation(language, "Accounts")
    if translated:
        expect(top_bar.get_by_role("link", name=translated, exact=True)).to_be_visible()
    page.reload()  # kept for the next page
    expect(page.locator("html")).to_have_attribute("lang", language)
