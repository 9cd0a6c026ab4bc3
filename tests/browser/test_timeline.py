"""The account's timeline: logging a contact moment in place, its task, paging back."""
import datetime

import pytest
from playwright.sync_api import expect

from browser.conftest import sign_in
from conftest import make_account, make_entry

pytestmark = pytest.mark.browser


def test_log_a_call_with_a_next_step_then_tick_the_task_done(page, user):
    account = make_account(user, "Bakkerij de Vries")
    make_entry(account, user, kind="meeting", days_ago=3, subject="Kick-off meeting")
    sign_in(page, user)
    page.goto(f"/accounts/{account.id}")
    page.evaluate("window.stillTheSamePage = true")
    entries = page.locator("#timeline-entries > li.timeline-entry")
    expect(entries).to_have_count(1)
    tasks = page.locator("#account-tasks")
    expect(tasks).to_contain_text("No open tasks")

    page.get_by_text("Log a call, meeting, visit or note").click()
    expect(page.get_by_label("What", exact=False).first).to_have_value("call")
    page.get_by_label("Subject").fill("Called about the spring order")
    page.get_by_label("What was discussed").fill("They want 20% more rye bread from March.")
    page.get_by_label("Next step", exact=True).fill("Send the spring price list")
    due = datetime.date.today() + datetime.timedelta(days=3)
    page.get_by_label("Next step due").fill(due.isoformat())
    page.get_by_role("button", name="Add to timeline").click()

    expect(entries).to_have_count(2)
    newest = entries.first
    expect(newest).to_contain_text("Called about the spring order")
    expect(newest).to_contain_text("They want 20% more rye bread from March.")
    expect(newest).to_contain_text("Next step: Send the spring price list")
    expect(entries.nth(1)).to_contain_text("Kick-off meeting")
    # The form came back empty, ready for the next one.
    expect(page.get_by_label("Subject")).to_have_value("")
    expect(page.get_by_label("What was discussed")).to_have_value("")
    expect(page.get_by_label("Next step due")).to_have_value("")

    task = tasks.get_by_role("listitem").filter(has_text="Send the spring price list")
    expect(task).to_be_visible()
    done = task.get_by_role("button", name="Mark as done: Send the spring price list")
    done.click()
    task = tasks.get_by_role("listitem").filter(has_text="Send the spring price list")
    expect(task.get_by_role("button", name="Mark as not done: Send the spring price list")) \
        .to_have_attribute("aria-pressed", "true")
    expect(task).to_have_class("task done")
    assert page.evaluate("window.stillTheSamePage") is True


def test_show_older_loads_the_next_page_in_place(page, user):
    account = make_account(user, "Bakkerij de Vries")
    for day in range(25):
        make_entry(account, user, kind="call", days_ago=day, subject=f"Call number {25 - day}")
    sign_in(page, user)
    page.goto(f"/accounts/{account.id}")
    page.evaluate("window.stillTheSamePage = true")
    entries = page.locator("#timeline-entries > li.timeline-entry")
    expect(entries).to_have_count(20)
    expect(entries.first).to_contain_text("Call number 25")
    expect(entries.last).to_contain_text("Call number 6")

    page.get_by_role("link", name="Show older").click()
    expect(entries).to_have_count(25)
    expect(entries.nth(20)).to_contain_text("Call number 5")
    expect(entries.last).to_contain_text("Call number 1")
    expect(page.get_by_role("link", name="Show older")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True
