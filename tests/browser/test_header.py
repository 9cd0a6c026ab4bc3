"""The top bar: global search as you type, the "/" shortcut, the language in the user menu."""
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from browser.conftest import sign_in
from conftest import make_account, make_contact

pytestmark = pytest.mark.browser

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
COMPILED = Path(tempfile.gettempdir()) / f"accountable-browser-translations-{os.getpid()}"


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
    """The compiled catalogue's text for `english`; a missing or fuzzy one fails the test."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        message = read_po(handle).get(english)
    assert message is not None and message.string and not message.fuzzy, (
        f"{english!r} has no {language} translation in {path}")
    return message.string


@pytest.fixture(scope="module")
def compiled():
    """The catalogues compiled as `make translations` does, into a directory of this test's
    own, so the test does not depend on .mo files left by an earlier build."""
    for language in ("nl", "it", "el"):
        target = COMPILED / language / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po, locale=language)
        with (target / "messages.mo").open("wb") as mo:
            write_mo(mo, catalog)
    yield COMPILED
    shutil.rmtree(COMPILED, ignore_errors=True)


@pytest.mark.parametrize("app", [{"BABEL_TRANSLATION_DIRECTORIES": str(COMPILED)}],
                         indirect=True)
@pytest.mark.parametrize("language, label", [("nl", "Nederlands"), ("it", "Italiano"),
                                             ("el", "Ελληνικά")])
def test_switch_language_from_the_user_menu(compiled, page, user, language, label):
    sign_in(page, user)
    top_bar = page.get_by_role("banner")
    nav = top_bar.locator("nav.mainnav")  # its accessible name ("Main") is translated too
    first_name = user.name.split(" ")[0]
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Accounts", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Good to see you, {first_name}")
    top_bar.get_by_text(user.name, exact=True).click()  # open the user menu
    menu = page.locator(".usermenu-panel")
    menu.get_by_label("Language").select_option(label=label)
    menu.get_by_role("button", name="Switch").click()

    accounts, tasks, my_day, greeting = (
        _translation(language, text)
        for text in ("Accounts", "Tasks", "My day", "Good to see you, %(name)s"))

    def shows_the_language():
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page).to_have_title(f"{my_day} · Accountable")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            greeting.replace("%(name)s", first_name))
        expect(nav.get_by_role("link", name=accounts, exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name=tasks, exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="Accounts", exact=True)).to_have_count(0)

    shows_the_language()
    expect(page).to_have_url(re.compile(r"/(\?)?$"))  # back where the user was
    page.reload()  # kept for the next page
    shows_the_language()
