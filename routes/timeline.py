"""The account timeline: logging contact moments in place and paging back through them."""
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from models.accounts import Account
from models.contacts import dmu_of
from models.tasks import Task, record_with_next_step
from models.timeline import KINDS, MANUAL_KINDS, TimelineEntry, attach_participants, \
    clean_entry, delete_entry, page_of, update_entry
from models.users import User
from models.validation import Invalid

from .access import current_timezone, get_or_404
from .filters import local_input
from .rendering import form_response, fragment, page_or_fragment

bp = Blueprint("timeline", __name__)


@bp.get("/accounts/<int:account_id>/timeline/more")
def more(account_id):
    """The next page of older entries, in place of the "Show older" control."""
    account = get_or_404(Account, account_id)
    kind = request.args.get("kind") or None
    entries, next_cursor = page_of(account, kind=kind, before=request.args.get("before"))
    return fragment("timeline/_entries.html", account=account, entries=entries,
                    next_cursor=next_cursor, kind=kind)


@bp.post("/accounts/<int:account_id>/timeline")
def create(account_id):
    """Log a contact moment; its next step becomes a task when it has a due date."""
    account = get_or_404(Account, account_id)
    form = request.form
    data = {**form.to_dict(), "contacts": form.getlist("contacts")}
    try:
        entry = record_with_next_step(account, g.user, data, current_timezone())
    except Invalid as invalid:
        # htmx: the form in place; without JavaScript a page of its own — the input kept.
        return form_response("timeline/new.html", "timeline/_created.html", invalid.errors,
                             **_quick_add_context(account, form=form,
                                                  selected_contacts=form.getlist("contacts")))
    if not request.htmx:
        flash(_("Added to the timeline."), "success")
        return redirect(url_for("accounts.show", account_id=account.id), 303)
    attach_participants([entry])
    return fragment("timeline/_created.html", entry=entry,
                    tasks=list(Task.open_for_account(account)),
                    **_quick_add_context(account, form={}, errors={}))


@bp.route("/timeline/<int:entry_id>/edit", methods=["GET", "POST"])
def edit(entry_id):
    """Correct an entry in place (htmx) or on a page of its own."""
    entry = _changeable(entry_id)
    account = entry.account
    if request.method == "POST":
        form = request.form
        try:
            values = clean_entry({**form.to_dict(), "contacts": form.getlist("contacts")},
                                 account, current_timezone())
            update_entry(entry, values)
        except Invalid as invalid:
            return form_response("timeline/edit.html", "timeline/_edit_form.html", invalid.errors,
                                 **_edit_context(entry, form, form.getlist("contacts")))
        if not request.htmx:
            flash(_("The entry was saved."), "success")
            return redirect(url_for("accounts.show", account_id=account.id), 303)
        attach_participants([entry])
        return fragment("timeline/_entry.html", entry=entry)
    attach_participants([entry])
    form = {"kind": entry.kind, "occurred_at": local_input(entry.occurred_at),
            "subject": entry.subject, "summary": entry.summary,
            "agreements": entry.agreements, "next_step": entry.next_step}
    return page_or_fragment("timeline/edit.html", "timeline/_edit_form.html", errors={},
                            **_edit_context(entry, form, [str(c.id) for c in entry.people]))


@bp.get("/timeline/<int:entry_id>")
def entry(entry_id):
    """One entry as it stands on the timeline (what "Cancel" on the inline edit swaps back)."""
    found = get_or_404(TimelineEntry, entry_id)
    attach_participants([found])
    return fragment("timeline/_entry.html", entry=found)


@bp.post("/timeline/<int:entry_id>/delete")
def delete(entry_id):
    entry = _changeable(entry_id)
    account_id = entry.account_id
    delete_entry(entry)
    if request.htmx:
        return ""
    flash(_("The entry was deleted."), "success")
    return redirect(url_for("accounts.show", account_id=account_id), 303)


def _changeable(entry_id):
    """The entry if the current user may change it: its author, managers and admins."""
    entry = get_or_404(TimelineEntry, entry_id)
    if not (g.user.leads_team or entry.author_id == g.user.id):
        abort(403)
    return entry


def _edit_context(entry, form, selected_contacts):
    return dict(entry=entry, account=entry.account, form=form, kinds=KINDS,
                manual_kinds=MANUAL_KINDS, dmu=dmu_of(entry.account),
                selected_contacts=selected_contacts)


def _quick_add_context(account, **context):
    return dict(account=account, dmu=dmu_of(account), manual_kinds=MANUAL_KINDS, kinds=KINDS,
                user_options=[(u.id, u.name) for u in User.active_users()], **context)
