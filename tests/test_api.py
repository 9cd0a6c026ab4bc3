"""The JSON API: tokens, errors, pages and cursors, and the number of queries a list costs.

The areas' own tests are in test_api_accounts.py, test_api_contacts.py,
test_api_timeline.py and test_api_tasks.py; they share the `Api` client below.
"""
import json
import re

import pytest
from playhouse.test_utils import count_queries

from conftest import login, make_account, make_contact, make_entry, make_user
from models.accounts import set_team_member
from models.db import utcnow
from models.tasks import Task
from models.users import ApiToken
from routes.api import encode_cursor


class Api:
    """The test client speaking JSON with a bearer token, and no CSRF token (the API needs none)."""

    def __init__(self, client, token):
        self.client = client
        self.token = token

    def request(self, method, url, body=None, headers=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        return self.client.open(url, method=method, headers=headers, csrf=False, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, body=None, **kwargs):
        return self.request("POST", url, body, **kwargs)

    def patch(self, url, body=None, **kwargs):
        return self.request("PATCH", url, body, **kwargs)

    def as_user(self, user):
        return Api(self.client, ApiToken.issue(user))


@pytest.fixture
def api(client, user):
    """The API as `user`, an account manager."""
    return Api(client, ApiToken.issue(user))


ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def all_pages(api, url):
    """Follow `next` from the first page to the last; every item, and the number of pages."""
    items, pages, cursor = [], 0, None
    while True:
        separator = "&" if "?" in url else "?"
        response = api.get(url + (f"{separator}cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.json
        items += response.json["items"]
        pages += 1
        cursor = response.json["next"]
        if cursor is None:
            return items, pages


# --- who is asking -----------------------------------------------------------------------

def test_no_token_is_401_with_a_bearer_challenge(client, user):
    response = client.get("/api/v1/accounts")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json["error"]


@pytest.mark.parametrize("header", ["Bearer acc_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "acc_token-without-scheme"])
def test_a_bad_token_is_401(client, user, header):
    ApiToken.issue(user)
    response = client.get("/api/v1/accounts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]


def test_a_good_token_acts_as_its_user(api, user):
    make_account(user, name="Visible")
    response = api.get("/api/v1/accounts")
    assert response.status_code == 200
    assert [a["name"] for a in response.json["items"]] == ["Visible"]
    created = api.post("/api/v1/tasks", {"account_id": response.json["items"][0]["id"],
                                         "due_date": "2030-01-01", "objective": "Call back"})
    assert created.status_code == 201  # no CSRF token sent: the API is exempt
    assert Task.get_by_id(created.json["id"]).created_by_id == user.id
    token = ApiToken.get(ApiToken.user == user)
    assert token.last_used_at is not None


def test_the_token_of_an_inactive_user_is_refused(api, user):
    user.active = False
    user.save()
    response = api.get("/api/v1/accounts")
    assert response.status_code == 401


def test_a_browser_session_is_not_enough(client, user):
    login(client, user)
    assert client.get("/accounts/").status_code == 200
    assert client.get("/api/v1/accounts").status_code == 401


def test_a_token_created_on_the_command_line_works(runner, client, user):
    result = runner.invoke(args=["tokens", "create", user.email])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert Api(client, token).get("/api/v1/accounts").status_code == 200


# --- errors ------------------------------------------------------------------------------

def test_unknown_ids_are_404_with_a_message(api, user):
    for url in ("/api/v1/accounts/999", "/api/v1/contacts/999", "/api/v1/tasks/999",
                "/api/v1/timeline/999", "/api/v1/accounts/999/timeline"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert "999" in response.json["error"]
    assert api.patch("/api/v1/accounts/999", {"name": "X"}).status_code == 404
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]


def test_a_wrong_method_is_405(api, user):
    account = make_account(user)
    response = api.request("DELETE", f"/api/v1/accounts/{account.id}")
    assert response.status_code == 405
    assert response.json["error"]
    assert api.request("PUT", "/api/v1/accounts").status_code == 405


@pytest.mark.parametrize("body", ['{"name": "Unclosed', "not json at all", b"\xff\xfe", ""])
def test_a_body_that_is_not_json_is_400(api, user, body):
    response = api.post("/api/v1/accounts", body)
    assert response.status_code == 400
    assert "JSON" in response.json["error"]


@pytest.mark.parametrize("body", ['["a", "list"]', '"a string"', "42", "null"])
def test_a_body_that_is_not_an_object_is_400(api, user, body):
    response = api.post("/api/v1/accounts", body)
    assert response.status_code == 400
    assert "object" in response.json["error"]


def test_unknown_fields_are_400_naming_them(api, user):
    response = api.post("/api/v1/accounts", {"name": "Acme", "colour": "red", "size": "XL"})
    assert response.status_code == 400
    assert "colour" in response.json["error"] and "size" in response.json["error"]
    assert set(response.json["fields"]) == {"colour", "size"}
    assert not api.get("/api/v1/accounts").json["items"]


def test_read_only_fields_are_400_naming_them(api, user):
    account = make_account(user)
    response = api.patch(f"/api/v1/accounts/{account.id}", {"id": 5, "created_at": "2020-01-01"})
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"id", "created_at"}


def test_wrong_json_types_are_422_at_the_field(api, user):
    response = api.post("/api/v1/accounts", {"name": 42, "email_domains": "acme.nl",
                                             "tags": [1, 2]})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"name", "email_domains", "tags"}


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=ten", "cursor=garbage",
                                   "cursor=bnVsbA", "stage=customerr", "owner=nobody@example.com"])
def test_bad_list_parameters_are_400(api, user, query):
    make_account(user)
    response = api.get(f"/api/v1/accounts?{query}")
    assert response.status_code == 400
    assert response.json["error"]


# --- pages ----------------------------------------------------------------------------------

def test_pages_follow_the_cursor_to_the_end(api, user):
    ids = [make_account(user, name=f"Account {i}").id for i in range(5)]
    first = api.get("/api/v1/accounts?limit=2").json
    assert [a["id"] for a in first["items"]] == ids[:2]
    assert first["next"]
    second = api.get(f"/api/v1/accounts?limit=2&cursor={first['next']}").json
    assert [a["id"] for a in second["items"]] == ids[2:4]
    third = api.get(f"/api/v1/accounts?limit=2&cursor={second['next']}").json
    assert [a["id"] for a in third["items"]] == ids[4:]
    assert third["next"] is None
    items, pages = all_pages(api, "/api/v1/accounts?limit=5")
    assert ([a["id"] for a in items], pages) == (ids, 1)


def test_the_default_page_size_comes_from_the_configuration(api, user, app):
    app.config["API_PAGE_SIZE"] = 3
    for i in range(4):
        make_account(user, name=f"Account {i}")
    page = api.get("/api/v1/accounts").json
    assert len(page["items"]) == 3 and page["next"]


def _queries(api, url):
    api.get(url)  # the token's "last used" is written at most once a minute: not in the count
    with count_queries() as counter:
        response = api.get(url)
    assert response.status_code == 200
    return counter.count, len(response.json["items"])


def _fill(owner, colleague, n, start):
    for i in range(start, start + n):
        account = make_account(owner, name=f"Account {i}", email_domains=f"a{i}.example",
                               tags="gold, north", stand_in=str(colleague.id))
        set_team_member(account, colleague, "technical sales")
        contact = make_contact(account, last_name=f"Contact {i}", emails=f"c{i}@a{i}.example")
        make_entry(account, owner, contacts=[contact.id])
        Task.create(account=account, contact=contact, owner=owner, due_date=utcnow().date(),
                    objective=f"Task {i}")
    return account


@pytest.mark.parametrize("url", ["/api/v1/accounts", "/api/v1/contacts", "/api/v1/tasks",
                                 "/api/v1/accounts/{account}/timeline"])
def test_a_list_costs_the_same_queries_for_any_page_size(api, user, url):
    colleague = make_user("colleague@example.com")
    account = _fill(user, colleague, 2, 0)
    if "{account}" in url:
        for days in range(1, 11):
            make_entry(account, user, days_ago=days)
    few, shown_few = _queries(api, url.format(account=account.id) + "?limit=2")
    _fill(user, colleague, 10, 2)
    many, shown_many = _queries(api, url.format(account=account.id) + "?limit=10")
    assert (shown_few, shown_many) == (2, 10)
    assert many == few


def test_numbers_too_large_for_an_id_are_refused_not_crashed_on(api, user):
    account = make_account(user)
    huge = 10**20
    assert api.get(f"/api/v1/accounts/{huge}").status_code == 404
    assert api.get(f"/api/v1/timeline/{huge}").status_code == 404
    assert api.get(f"/api/v1/contacts?account_id={huge}").status_code == 400
    assert api.get(f"/api/v1/accounts?cursor={encode_cursor(huge)}").status_code == 400
    refused = api.post("/api/v1/tasks", {"account_id": huge, "due_date": "2030-01-01",
                                         "objective": "Call"})
    assert refused.status_code == 422 and set(refused.json["fields"]) == {"account_id"}
    logged = api.post(f"/api/v1/accounts/{account.id}/timeline",
                      {"kind": "call", "subject": "Call", "contact_ids": [huge]})
    assert logged.status_code == 422 and set(logged.json["fields"]) == {"contact_ids"}
    stale = api.patch(f"/api/v1/accounts/{account.id}", {"name": "New", "version": huge})
    assert stale.status_code == 422 and set(stale.json["fields"]) == {"version"}
