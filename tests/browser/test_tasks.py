"""Follow-up tasks in the browser: planning one with the "New task" form, finding it on the
Tasks page, and ticking it done there in place."""
import re

import pytest
from playwright.sync_api import expect

from browser.conftest import sign_in
from conftest import make_account, make_contact, make_user

pytestmark = pytest.mark.browser


def settled(page):
    """Wait until htmx has finished a boosted navigation: it wires up the new page's forms
    only when the swap settles, a moment after the new content is already on screen."""
    expect(page.locator(".htmx-swapping, .htmx-settling")).to_have_count(0)


def test_plan_a_task_and_tick_it_done_on_the_tasks_page(page, page_watch, user):
    colleague = make_user("pieter@example.com", name="Pieter Bakker")
    account = make_account(user, "Bakkerij de Vries", city="Utrecht")
    make_contact(account, first_name="Marieke", last_name="Jansen")
    objective = "Call about the spring order"
    page_watch.expect_status(422, "/tasks/new")
    sign_in(page, user)

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    expect(page.locator(".result-count")).to_have_text("0 tasks")

    # "New task" from the account's open tasks: the form knows the account.
    page.goto(f"/accounts/{account.id}")
    page.locator("#account-tasks").get_by_role("link", name="New task").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New task")
    settled(page)
    expect(page.locator(".subtitle")).to_have_text("For Bakkerij de Vries")
    expect(page.get_by_label("Owner")).to_have_value(str(user.id))  # the user's own by default

    # Without an objective the form comes back with the cursor in the field to fill.
    page.get_by_label("Due date").fill("2030-03-15")
    page.get_by_role("button", name="Add task").click()
    objective_field = page.get_by_label("Objective")
    expect(objective_field).to_have_attribute("aria-invalid", "true")
    settled(page)
    expect(objective_field).to_be_focused()
    expect(page.locator("#objective-error")).to_be_visible()
    expect(page.get_by_label("Due date")).to_have_value("2030-03-15")

    objective_field.fill(objective)
    page.get_by_label("Owner").select_option(label="Pieter Bakker")
    page.get_by_label("With contact").select_option(label="Marieke Jansen")
    page.get_by_role("button", name="Add task").click()

    # Back on the account: the task is among its open tasks.
    expect(page).to_have_url(re.compile(rf"/accounts/{account.id}$"))
    expect(page.get_by_role("status").filter(has_text="Task added for Pieter Bakker.")) \
        .to_be_visible()
    planned = page.locator("#account-tasks li.task", has_text=objective)
    expect(planned).to_contain_text("Marieke Jansen")
    expect(planned).to_contain_text("Pieter Bakker")
    expect(planned.locator(".due")).to_contain_text("2030")

    # On the Tasks page, under its owner's name.
    nav.get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    settled(page)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Owner").select_option(label="Pieter Bakker")
    results = page.locator("#task-results")
    expect(results.locator(".result-count")).to_have_text("1 task")
    row = results.locator("li.task", has_text=objective)
    expect(row.get_by_role("link", name="Bakkerij de Vries")).to_be_visible()
    expect(row).to_contain_text("Marieke Jansen")
    expect(row).not_to_have_class(re.compile(r"\bdone\b"))

    # Ticked done in place: the row changes, the page stays.
    row.get_by_role("button", name=f"Mark as done: {objective}").click()
    expect(row).to_have_class(re.compile(r"\bdone\b"))
    expect(row.get_by_role("button", name=f"Mark as not done: {objective}")) \
        .to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.stillTheSamePage") is True
    assert colleague.tasks.get().done  # saved, not only shown

    page.get_by_label("Show", exact=True).select_option(label="Done")
    expect(results.locator("li.task", has_text=objective)).to_be_visible()
    expect(results.locator(".result-count")).to_have_text("1 task")
