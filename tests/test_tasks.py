"""Follow-up tasks, My day, the overdue job and the health check."""
import datetime

from playhouse.test_utils import count_queries

from conftest import login, make_account, make_contact, make_entry, make_user, text_of
from models.tasks import Task, create_task, mark_overdue_tasks
from models.users import User

HTMX = {"HX-Request": "true"}
TODAY = datetime.date.today()


def _task(account, owner, days=0, objective="Follow up", **fields):
    return create_task(account, {"owner": owner, "due_date": TODAY + datetime.timedelta(days=days),
                                 "objective": objective, **fields}, owner)


def test_create_task_form(auth, user):
    account = make_account(user)
    contact = make_contact(account)
    page = auth.get(f"/tasks/new?account={account.id}")
    assert page.status_code == 200 and "New task" in text_of(page)
    response = auth.post(f"/tasks/new?account={account.id}", data={
        "objective": "Send the price list", "due_date": "2030-05-01", "owner": str(user.id),
        "contact": str(contact.id)})
    assert response.status_code == 303
    task = Task.get()
    assert (task.objective, task.due_date, task.contact_id) == (
        "Send the price list", datetime.date(2030, 5, 1), contact.id)
    assert "Send the price list" in text_of(auth.get(f"/accounts/{account.id}"))


def test_invalid_task_keeps_input(auth, user):
    account = make_account(user)
    response = auth.post(f"/tasks/new?account={account.id}", data={
        "objective": "Remember me", "due_date": "31-12-2030", "owner": str(user.id)})
    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in text_of(response)
    assert "Remember me" in response.get_data(as_text=True)
    assert Task.select().count() == 0


def test_contact_of_another_account_is_refused(auth, user):
    account = make_account(user)
    stranger = make_contact(make_account(user, "Elsewhere"))
    response = auth.post(f"/tasks/new?account={account.id}", data={
        "objective": "x", "due_date": "2030-01-01", "owner": str(user.id),
        "contact": str(stranger.id)})
    assert response.status_code == 422
    assert "Choose a contact of this account." in text_of(response)


def test_toggle_in_place(auth, user):
    task = _task(make_account(user), user)
    done = auth.post(f"/tasks/{task.id}/toggle", data={"done": "1"}, headers=HTMX)
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="task done" id="task-{task.id}"')
    assert 'aria-pressed="true"' in html
    assert Task.get_by_id(task.id).done and Task.get_by_id(task.id).done_at is not None
    undone = auth.post(f"/tasks/{task.id}/toggle", data={"done": "0"}, headers=HTMX)
    assert 'aria-pressed="false"' in undone.get_data(as_text=True)
    assert not Task.get_by_id(task.id).done and Task.get_by_id(task.id).done_at is None
    plain = auth.post(f"/tasks/{task.id}/toggle", data={"done": "1"})
    assert plain.status_code == 303


def test_strangers_cannot_change_tasks(client, user):
    task = _task(make_account(user), user)
    login(client, make_user("stranger@example.com"))
    assert client.post(f"/tasks/{task.id}/toggle", data={"done": "1"}).status_code == 403
    assert client.get(f"/tasks/{task.id}/edit").status_code == 403
    assert not Task.get_by_id(task.id).done
    assert client.post("/tasks/99999/toggle", data={"done": "1"}).status_code == 404


def test_edit_task(auth, user):
    task = _task(make_account(user), user, objective="Old")
    assert auth.get(f"/tasks/{task.id}/edit").status_code == 200
    response = auth.post(f"/tasks/{task.id}/edit", data={
        "objective": "New", "due_date": "2031-02-03", "owner": str(user.id), "contact": ""})
    assert response.status_code == 303
    assert Task.get_by_id(task.id).objective == "New"


def test_task_list_views(auth, user):
    account = make_account(user)
    _task(account, user, days=-2, objective="Late one")
    _task(account, user, days=1, objective="Soon one")
    finished = _task(account, user, days=-5, objective="Finished one")
    finished.set_done(True)
    open_ = text_of(auth.get("/tasks/"))
    assert "Late one" in open_ and "Soon one" in open_ and "Finished one" not in open_
    overdue = text_of(auth.get("/tasks/?view=overdue"))
    assert "Late one" in overdue and "Soon one" not in overdue
    assert "Finished one" in text_of(auth.get("/tasks/?view=done"))
    fragment = auth.get("/tasks/?view=done", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)


def test_my_day(auth, user):
    account = make_account(user, "Quiet Customer")
    busy = make_account(user, "Busy Customer")
    make_entry(busy, user, days_ago=3)
    make_entry(account, user, days_ago=90)
    _task(account, user, days=-3, objective="Overdue call")
    _task(account, user, days=0, objective="Call today")
    _task(account, user, days=4, objective="Visit next week")
    _task(account, user, days=30, objective="Far away")
    colleague = make_user("colleague@example.com")
    _task(account, colleague, days=0, objective="Not mine")
    page = text_of(auth.get("/"))
    assert page.index("Overdue call") < page.index("Call today") < page.index("Visit next week")
    assert "Far away" not in page and "Not mine" not in page
    assert "Quiet Customer" in page.split("Accounts going quiet")[1]
    assert "Busy Customer" not in page.split("Accounts going quiet")[1]


def test_stand_in_sees_the_away_owners_tasks(client, user):
    stand_in = make_user("standin@example.com", name="Stan")
    account = make_account(user, "Covered", stand_in=str(stand_in.id))
    _task(account, user, days=0, objective="Cover this call")
    login(client, stand_in)
    assert "Cover this call" not in text_of(client.get("/"))
    User.update(away=True).where(User.id == user.id).execute()
    assert "Cover this call" in text_of(client.get("/"))


def test_my_day_queries_do_not_grow_with_tasks(auth, user):
    account = make_account(user)
    _task(account, user)
    with count_queries() as few:
        auth.get("/")
    for i in range(15):
        _task(make_account(user, f"A{i}"), user, days=i % 5 - 2)
    with count_queries() as many:
        auth.get("/")
    assert many.count == few.count


def test_overdue_job_flags_and_unflags(app, user):
    account = make_account(user)
    late = _task(account, user, days=-1)
    fresh = _task(account, user, days=1)
    Task.update(overdue=False).execute()
    assert mark_overdue_tasks() == 1
    assert Task.get_by_id(late.id).overdue and not Task.get_by_id(fresh.id).overdue
    assert mark_overdue_tasks(today=TODAY + datetime.timedelta(days=5)) == 1
    late.set_done(True)
    mark_overdue_tasks()
    assert not Task.get_by_id(late.id).overdue


def test_overdue_job_runs_through_the_queue(app, user):
    account = make_account(user)
    task = _task(account, user, days=-2)
    Task.update(overdue=False).execute()
    huey = app.extensions["huey"]
    huey.mark_overdue_tasks()  # immediate mode in tests: runs now, as the worker would
    assert Task.get_by_id(task.id).overdue


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_birthdays_this_week_on_my_day(auth, user):
    account = make_account(user, "Party Account")
    in_three_days = TODAY + datetime.timedelta(days=3)
    make_contact(account, "Jarig", first_name="Joke",
                 birthday=in_three_days.replace(year=1980).isoformat())
    make_contact(account, "Later", first_name="Lars",
                 birthday=(TODAY + datetime.timedelta(days=20)).replace(year=1979).isoformat())
    other = make_account(make_user("else@example.com"), "Not Mine")
    make_contact(other, "Stranger", birthday=TODAY.replace(year=1990).isoformat())
    page = text_of(auth.get("/"))
    section = page.split("Birthdays this week")[1]
    assert "Joke Jarig" in section and "Party Account" in section
    assert "Lars Later" not in section and "Stranger" not in section


def test_birthdays_across_new_year(user, app):
    from models.contacts import birthdays_between
    account = make_account(user)
    make_contact(account, "Newyear", birthday="1970-01-02")
    make_contact(account, "Oldyear", birthday="1970-12-30")
    make_contact(account, "Summer", birthday="1970-07-01")
    found = birthdays_between(user, datetime.date(2026, 12, 28), datetime.date(2027, 1, 3))
    assert [(c.last_name, d) for c, d in found] == [
        ("Oldyear", datetime.date(2026, 12, 30)), ("Newyear", datetime.date(2027, 1, 2))]


def test_quotes_about_to_expire_on_my_day(auth, user):
    from models.quotes import Quote, create_quote
    account = make_account(user, "Expiring Account")
    soon = create_quote(account, user, make_contact(account))
    later = create_quote(account, user, make_contact(account, "Other"))
    draft = create_quote(account, user)
    Quote.update(status="sent", valid_until=TODAY + datetime.timedelta(days=2)).where(
        Quote.id == soon.id).execute()
    Quote.update(status="sent", valid_until=TODAY + datetime.timedelta(days=20)).where(
        Quote.id == later.id).execute()
    Quote.update(valid_until=TODAY + datetime.timedelta(days=1)).where(Quote.id == draft.id).execute()
    section = text_of(auth.get("/")).split("Quotes about to expire")[1].split("Accounts going quiet")[0]
    assert soon.display_number in section and "Expiring Account" in section
    assert later.display_number not in section and draft.display_number not in section


def test_my_day_shows_the_first_overdue_tasks_and_links_to_all(auth, user):
    import routes.main
    account = make_account(user)
    for i in range(routes.main.MY_DAY_OVERDUE + 3):
        _task(account, user, days=-1 - i, objective=f"Late {i:02d}")
    page = text_of(auth.get("/"))
    assert f"All {routes.main.MY_DAY_OVERDUE + 3} overdue tasks" in page
    # Longest overdue first; the three most recent wait behind the link.
    assert f"Late {routes.main.MY_DAY_OVERDUE + 2:02d}" in page and "Late 00" not in page
