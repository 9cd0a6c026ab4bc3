"""Tasks in the API: the contract's fields, filters, create, read, update, rights."""
import datetime

from conftest import make_account, make_contact, make_user
from models.tasks import Task
from test_api import ISO_MOMENT, api  # noqa: F401  (api is a fixture)

CONTRACT = {"id", "account_id", "contact_id", "owner", "due_date", "objective", "done"}
TODAY = datetime.date.today()


def make_task(account, owner, days=1, **fields):
    return Task.create(account=account, owner=owner, objective=fields.pop("objective", "Call"),
                       due_date=TODAY + datetime.timedelta(days=days), **fields)


def test_the_list_speaks_the_contract(api, user):
    account = make_account(user)
    contact = make_contact(account)
    task = make_task(account, user, days=3, contact=contact, objective="Send the samples")
    item = api.get("/api/v1/tasks").json["items"][0]
    assert CONTRACT <= set(item)
    assert (item["id"], item["account_id"], item["contact_id"]) == (task.id, account.id, contact.id)
    assert (item["owner"], item["objective"]) == ("am@example.com", "Send the samples")
    assert item["due_date"] == (TODAY + datetime.timedelta(days=3)).isoformat()
    assert (item["done"], item["overdue"], item["done_at"]) == (False, False, None)
    assert ISO_MOMENT.match(item["created_at"])


def test_the_list_filters(api, user):
    colleague = make_user("mario@example.com")
    first = make_account(user, name="First")
    second = make_account(user, name="Second")
    make_task(first, user, objective="Mine, open")
    make_task(second, colleague, objective="Mario's, open")
    late = make_task(first, user, days=-2, objective="Mine, late")
    finished = make_task(second, user, objective="Mine, done")
    finished.set_done(True)
    assert late.overdue

    def objectives(query):
        response = api.get(f"/api/v1/tasks?{query}")
        assert response.status_code == 200, response.json
        return sorted(t["objective"] for t in response.json["items"])

    assert objectives("owner=mario@example.com") == ["Mario's, open"]
    assert objectives(f"account_id={first.id}") == ["Mine, late", "Mine, open"]
    assert objectives("done=true") == ["Mine, done"]
    assert objectives("done=false&owner=am@example.com") == ["Mine, late", "Mine, open"]
    assert objectives("overdue=true") == ["Mine, late"]
    assert api.get("/api/v1/tasks?done=maybe").status_code == 400


def test_create(api, user):
    make_user("mario@example.com")
    account = make_account(user)
    contact = make_contact(account)
    response = api.post("/api/v1/tasks", {"account_id": account.id, "contact_id": contact.id,
                                          "due_date": "2031-05-04", "objective": "Visit the plant"})
    assert response.status_code == 201, response.json
    created = response.json
    assert response.headers["Location"].endswith(f"/api/v1/tasks/{created['id']}")
    assert (created["owner"], created["due_date"], created["contact_id"]) == \
        ("am@example.com", "2031-05-04", contact.id)  # the owner is the one asking by default
    assert (created["done"], created["overdue"]) == (False, False)
    assert Task.get_by_id(created["id"]).due_date == datetime.date(2031, 5, 4)
    assert api.get(f"/api/v1/tasks/{created['id']}").json == created
    theirs = api.post("/api/v1/tasks", {"account_id": account.id, "owner": "mario@example.com",
                                        "due_date": "2020-01-01", "objective": "Late already"})
    assert (theirs.json["owner"], theirs.json["overdue"]) == ("mario@example.com", True)


def test_create_refuses_bad_input_with_a_message_per_field(api, user):
    response = api.post("/api/v1/tasks", {"account_id": 999, "due_date": "next week",
                                          "objective": "", "owner": "ghost@example.com"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"account_id", "due_date", "objective", "owner"}
    account = make_account(user)
    stranger = make_contact(make_account(user, name="Other"))
    wrong_contact = api.post("/api/v1/tasks", {"account_id": account.id, "contact_id": stranger.id,
                                               "due_date": "2031-01-01", "objective": "Call"})
    assert wrong_contact.status_code == 422
    assert set(wrong_contact.json["fields"]) == {"contact_id"}
    assert api.post("/api/v1/tasks", {"account_id": account.id, "due_date": "2031-01-01",
                                      "objective": "Call", "done": True}).status_code == 400
    assert Task.select().count() == 0


def test_patch_done_and_other_fields(api, user):
    account = make_account(user)
    task = make_task(account, user, days=-1, objective="Call back")
    url = f"/api/v1/tasks/{task.id}"
    done = api.patch(url, {"done": True})
    assert done.status_code == 200, done.json
    assert (done.json["done"], done.json["overdue"]) == (True, False)
    assert ISO_MOMENT.match(done.json["done_at"])
    assert done.json["objective"] == "Call back"
    reopened = api.patch(url, {"done": False, "due_date": "2031-02-03", "objective": "Call again"})
    assert (reopened.json["done"], reopened.json["done_at"]) == (False, None)
    assert (reopened.json["due_date"], reopened.json["objective"]) == ("2031-02-03", "Call again")
    stored = Task.get_by_id(task.id)
    assert (stored.done, stored.due_date, stored.objective) == \
        (False, datetime.date(2031, 2, 3), "Call again")
    invalid = api.patch(url, {"due_date": "", "done": "yes"})
    assert invalid.status_code == 422
    assert set(invalid.json["fields"]) == {"due_date", "done"}
    assert api.patch(url, {"account_id": account.id}).status_code == 400
    assert api.patch(url, {"overdue": False}).status_code == 400


def test_only_who_may_change_a_task_changes_it(api, user, manager):
    colleague = make_user("mario@example.com")
    account = make_account(colleague)
    task = make_task(account, colleague, objective="Mario's task")
    url = f"/api/v1/tasks/{task.id}"
    assert api.get(url).status_code == 200
    assert api.patch(url, {"done": True}).status_code == 403
    assert Task.get_by_id(task.id).done is False
    assert api.as_user(manager).patch(url, {"done": True}).status_code == 200
    mine = make_task(account, user, objective="Mine on Mario's account")
    assert api.patch(f"/api/v1/tasks/{mine.id}", {"objective": "Still mine"}).status_code == 200
