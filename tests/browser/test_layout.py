"""Screenshots of the main pages at desktop and tablet width, and no sideways scrolling."""
import pytest
from playwright.sync_api import expect

from browser.conftest import sign_in
from conftest import make_account, make_contact, make_entry

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width, language", [(1280, "en"), (820, "en"), (820, "el")])
def test_account_page_and_my_day_fit_the_screen(page, user, tmp_path, width, language):
    """Greek has the longest words and its own alphabet: it finds the layout bugs."""
    user.language = language
    user.save()
    account = make_account(user, "Bakkerij de Vries en Zonen — Groothandel in Brood en Banket",
                           city="’s-Hertogenbosch", industry="Wholesale bakery",
                           tags="key account, rye, organic, north")
    make_contact(account, first_name="Marieke", last_name="van der Berg-Jansen",
                 dmu_role="decision_maker", position="Head of purchasing and logistics")
    for day in range(5):
        make_entry(account, user, kind="call", days_ago=day * 20,
                   subject=f"Quarterly review of the bread and pastry assortment {day}",
                   summary="A long summary that wraps over several lines. " * 6,
                   next_step="Send the revised price list for the organic rye range")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, user)

    expect(page.locator("html")).to_have_attribute("lang", language)

    for name, url, heading in [("my-day", "/", user.name),
                               ("account", f"/accounts/{account.id}", "Bakkerij de Vries")]:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        page.screenshot(path=tmp_path / f"{name}-{width}-{language}.png", full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} is {scroll_width}px wide at {width}px"
    assert (tmp_path / f"account-{width}-{language}.png").stat().st_size > 10_000


@pytest.mark.parametrize("language", ["en", "it", "el", "nl"])
def test_the_user_menu_stays_on_screen_with_the_longest_navigation(page, manager, language):
    """A manager sees the most links (Outbox too), and Italian labels are the longest: the
    search box gives way, then the navigation scrolls; the user menu is never pushed off."""
    manager.language = language
    manager.save()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, manager)
    expect(page.locator("html")).to_have_attribute("lang", language)
    menu = page.locator(".usermenu summary").bounding_box()
    assert menu["x"] + menu["width"] <= 1280, f"the user menu ends at {menu['x'] + menu['width']}px"
    search = page.locator(".globalsearch").bounding_box()
    assert search["width"] >= 140
