"""Follow-up tasks in the API: list, create, read, update (done or not included)."""
from flask import g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.accounts import Account
from models.tasks import Task, clean_task, create_task, update_task

from . import (ID, bp, bool_arg, field_messages, forbid_unless, found, int_arg, iso_date,
               iso_datetime, page_by_id, page_response, page_size, read_body, record_response,
               user_arg, user_ids_for)

WRITABLE = {"contact_id": "int", "owner": "text", "due_date": "text", "objective": "text",
            "done": "bool"}
READ_ONLY = ("id", "overdue", "done_at", "timeline_entry_id", "created_at")
# The API says contact_id where the task's clean function says contact.
RENAMED = {"contact": "contact_id"}


@bp.get("/tasks")
def list_tasks():
    """Tasks in id order; filters: owner (email), account_id, done, overdue."""
    query = Task.with_related()
    owner = user_arg("owner")
    if owner is not None:
        query = query.where(Task.owner == owner)
    account_id = int_arg("account_id")
    if account_id is not None:
        query = query.where(Task.account == account_id)
    for name, field in (("done", Task.done), ("overdue", Task.overdue)):
        wanted = bool_arg(name)
        if wanted is not None:
            query = query.where(field == wanted)
    rows, next_cursor = page_by_id(query, Task, page_size())
    return page_response([task_item(t) for t in rows], next_cursor)


@bp.post("/tasks")
def post_task():
    """A new open task; anyone may plan one on any account, as on the account page."""
    body, errors = read_body({**WRITABLE, "account_id": "int"}, READ_ONLY + ("done",))
    account_id = body.pop("account_id", None)
    account = Account.get_or_none(Account.id == account_id) if account_id else None
    if account is None:
        errors.setdefault("account_id", _l("Give the id of an existing account."))
    data = _as_form({"owner": g.user.email, **body}, errors)
    with field_messages(errors, RENAMED):
        values = clean_task(data, account=account)
    with field_messages(renamed=RENAMED):
        task = create_task(account, values, g.user)
    return record_response(_task_item(task.id), 201, url_for(".get_task", task_id=task.id))


@bp.get(f"/tasks/<{ID}:task_id>")
def get_task(task_id):
    return record_response(_task_item(task_id))


@bp.patch(f"/tasks/<{ID}:task_id>")
def patch_task(task_id):
    task = _task(task_id)
    forbid_unless(task.can_change(g.user))
    body, errors = read_body(WRITABLE, READ_ONLY + ("account_id",))
    data = _as_form(body, errors)
    with field_messages(errors, RENAMED):
        values = clean_task(data, partial=True, account=task.account)
    if "done" in body:
        values["done"] = bool(body["done"])
    with field_messages(renamed=RENAMED):
        update_task(task, values)
    return record_response(_task_item(task.id))


def _task(task_id):
    return found(Task.with_related().where(Task.id == task_id).first(),
                 _("There is no task with the id %(id)s.", id=task_id))


def _as_form(body, errors):
    """The API's values as the form's: the owner by id, the contact as `contact`."""
    data = {k: v for k, v in body.items() if k != "done"}
    user_ids_for(data, ("owner",), errors)
    if "contact_id" in data:
        data["contact"] = data.pop("contact_id")
    return data


def _task_item(task_id):
    return task_item(_task(task_id))


def task_item(task):
    """A task as a JSON object; its owner comes joined (Task.with_related)."""
    return {
        "id": task.id,
        "account_id": task.account_id,
        "contact_id": task.contact_id,
        "owner": task.owner.email,
        "due_date": iso_date(task.due_date),
        "objective": task.objective,
        "done": task.done,
        "overdue": task.overdue,
        "done_at": iso_datetime(task.done_at),
        "timeline_entry_id": task.timeline_entry_id,
        "created_at": iso_datetime(task.created_at),
    }
