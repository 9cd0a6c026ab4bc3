"""Follow-up tasks: the list, creating and editing, done/undone in place."""
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from models.accounts import Account
from models.contacts import Contact
from models.tasks import Task, clean_task, create_task, update_task
from models.users import User
from models.validation import Invalid, parse_int

from .access import get_or_404
from .rendering import form_response, fragment, id_arg, page_number, page_or_fragment

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

PAGE_SIZE = 50
VIEWS = ("open", "overdue", "done")


@bp.get("/")
def index():
    """My tasks (or a colleague's): open, overdue or done."""
    view = request.args.get("view") if request.args.get("view") in VIEWS else "open"
    owner_id = id_arg("owner")
    if owner_id is None:
        owner_id = g.user.id
    page = page_number()
    query = Task.with_related().where(Task.owner == owner_id)
    if view == "done":
        query = query.where(Task.done == True).order_by(Task.done_at.desc(), Task.id.desc())  # noqa: E712
    else:
        query = query.where(Task.done == False)  # noqa: E712
        if view == "overdue":
            query = query.where(Task.overdue == True)  # noqa: E712
        query = query.order_by(Task.due_date, Task.id)
    total = query.count()
    tasks = list(query.paginate(page, PAGE_SIZE))
    return page_or_fragment("tasks/index.html", "tasks/_results.html", tasks=tasks, total=total,
                            page=page, page_size=PAGE_SIZE, view=view, owner_id=owner_id,
                            owners=list(User.active_users()),
                            args={"view": view, "owner": owner_id})


@bp.route("/new", methods=["GET", "POST"])
def create():
    account = get_or_404(Account, parse_int(request.values.get("account"), minimum=1))
    form = request.form if request.method == "POST" else {
        "owner": str(g.user.id), "contact": request.args.get("contact", "")}
    if request.method == "POST":
        try:
            task = create_task(account, clean_task(form, account=account), g.user)
        except Invalid as invalid:
            return form_response("tasks/new.html", "tasks/_form.html", invalid.errors,
                                 **_form_context(account, form))
        flash(_("Task added for %(name)s.", name=task.owner.name), "success")
        return redirect(url_for("accounts.show", account_id=account.id), 303)
    return page_or_fragment("tasks/new.html", "tasks/_form.html", errors={},
                            **_form_context(account, form))


@bp.route("/<int:task_id>/edit", methods=["GET", "POST"])
def edit(task_id):
    task = _changeable(task_id)
    if request.method == "POST":
        form = request.form
        try:
            update_task(task, clean_task(form, account=task.account))
        except Invalid as invalid:
            return form_response("tasks/edit.html", "tasks/_form.html", invalid.errors,
                                 task=task, **_form_context(task.account, form))
        flash(_("Task saved."), "success")
        return redirect(url_for("accounts.show", account_id=task.account_id), 303)
    form = {"objective": task.objective, "due_date": task.due_date.isoformat(),
            "owner": str(task.owner_id), "contact": str(task.contact_id or "")}
    return page_or_fragment("tasks/edit.html", "tasks/_form.html", errors={}, task=task,
                            **_form_context(task.account, form))


@bp.post("/<int:task_id>/toggle")
def toggle(task_id):
    """Done or not done, in place: answers the task's row."""
    task = _changeable(task_id)
    task.set_done(request.form.get("done") == "1")
    if not request.htmx:
        return redirect(request.referrer or url_for("tasks.index"), 303)
    task = Task.with_related().where(Task.id == task.id).get()
    return fragment("tasks/_task.html", task=task,
                    show_account=request.form.get("show_account") == "1")


def _changeable(task_id):
    task = get_or_404(Task, task_id)
    if not task.can_change(g.user):
        abort(403)
    return task


def _form_context(account, form):
    return dict(account=account, form=form,
                user_options=[(u.id, u.name) for u in User.active_users()],
                contact_options=[(c.id, c.name) for c in Contact.of_account(account)])
