"""Mailboxes the poller reads: their state, adding and changing one, testing the connection."""
import datetime

from flask import Blueprint, current_app, flash, make_response, request, url_for
from flask_babel import gettext as _

from mail.poller import test_connection
from models.db import utcnow
from models.inbound import (SECURITY_LABELS, FolderCheckpoint, Mailbox, clean_mailbox,
                            pending_by_mailbox, save_mailbox)
from models.validation import Invalid, parse_int

from .access import find, get_or_404, roles_required
from .rendering import field_check, form_response, fragment, page_or_fragment, see_other

bp = Blueprint("mailboxes", __name__, url_prefix="/mailboxes")

PROGRESS_SECONDS = 2        # how often an open page asks for a running sync's progress
WATCH_MINUTES = 5           # after "poll now", how long the page waits for the worker
FORM_FIELDS = ("name", "host", "port", "security", "username", "folders", "since_days")


@bp.get("/")
@roles_required("admin")
def index():
    mailboxes = list(Mailbox.select().order_by(Mailbox.name, Mailbox.id))
    _attach_progress(mailboxes)
    return page_or_fragment("mailboxes/index.html", "mailboxes/_list.html", mailboxes=mailboxes)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def create():
    form = {"port": "993", "security": "ssl", "folders": "INBOX", "since_days": "90",
            "active": "1"}
    if request.method == "POST":
        form = request.form
        try:
            mailbox = save_mailbox(clean_mailbox(form))
        except Invalid as invalid:
            return form_response("mailboxes/new.html", "mailboxes/_form.html", invalid.errors,
                                 **_form_context(form, None))
        flash(_("Mailbox %(name)s added; it is read at the next run of the worker.",
                name=mailbox.name), "success")
        return see_other(url_for("mailboxes.index"))
    return page_or_fragment("mailboxes/new.html", "mailboxes/_form.html", errors={},
                            **_form_context(form, None))


@bp.route("/<int:mailbox_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(mailbox_id):
    mailbox = get_or_404(Mailbox, mailbox_id)
    if request.method == "POST":
        form = request.form
        try:
            save_mailbox(clean_mailbox(form, mailbox), mailbox)
        except Invalid as invalid:
            mailbox = get_or_404(Mailbox, mailbox_id)
            return form_response("mailboxes/edit.html", "mailboxes/_form.html", invalid.errors,
                                 **_form_context(form, mailbox))
        flash(_("Changes to %(name)s saved.", name=mailbox.name), "success")
        return see_other(url_for("mailboxes.index"))
    form = {name: str(getattr(mailbox, name)) for name in FORM_FIELDS}
    form["active"] = "1" if mailbox.active else ""
    form["delete_after_import"] = "1" if mailbox.delete_after_import else ""
    return page_or_fragment("mailboxes/edit.html", "mailboxes/_form.html", errors={},
                            **_form_context(form, mailbox))


@bp.post("/check")
@roles_required("admin")
def check():
    """Inline validation: the message the save would give for one field."""
    return field_check(clean_mailbox, _mailbox_of_form())


@bp.post("/test")
@roles_required("admin")
def test():
    """Try the settings in the form (the stored password when left empty); plain words back."""
    form = request.form
    mailbox = _mailbox_of_form()
    password = form.get("password") or (mailbox.password if mailbox else "")
    port = parse_int(form.get("port"), minimum=1, maximum=65535)
    if not form.get("host", "").strip() or port is None:
        ok, message = False, _("Enter the server and its port first.")
    elif form.get("security") not in SECURITY_LABELS:
        ok, message = False, _("Choose how the connection is secured.")
    else:
        ok, message = test_connection(form["host"].strip(), port, form["security"],
                                      form.get("username", "").strip(), password,
                                      form.get("folders") or "INBOX")
    return fragment("mailboxes/_test_result.html", ok=ok, message=message)


@bp.post("/<int:mailbox_id>/poll")
@roles_required("admin")
def poll_now(mailbox_id):
    """Queue a poll of this mailbox for the worker; the request does not wait for it."""
    mailbox = get_or_404(Mailbox, mailbox_id)
    requested = utcnow().replace(microsecond=0)
    Mailbox.update(next_poll_at=requested).where(Mailbox.id == mailbox.id).execute()
    current_app.extensions["huey"].poll_mailbox(mailbox.id)
    mailbox = Mailbox.get_by_id(mailbox.id)
    _attach_progress([mailbox], watch_from=requested)
    note = _("Polling %(name)s; this page shows the result when the worker is done.",
             name=mailbox.name)
    if request.htmx:
        return fragment("mailboxes/_row.html", mailbox=mailbox, note=note)
    flash(note, "success")
    return see_other(url_for("mailboxes.index"))


@bp.get("/<int:mailbox_id>/progress")
@roles_required("admin")
def progress(mailbox_id):
    """The mailbox's status and sync progress; 286 (htmx: stop polling) once nothing runs."""
    mailbox = get_or_404(Mailbox, mailbox_id)
    watch_from = _timestamp(request.args.get("since"))
    _attach_progress([mailbox], watch_from=watch_from)
    response = make_response(fragment("mailboxes/_status.html", mailbox=mailbox))
    if not mailbox.watching:
        response.status_code = 286
    return response


def _attach_progress(mailboxes, watch_from=None):
    """Set `syncing` (folders in a first sync: folder, done, total), `filing` (messages
    stored and not yet filed) and `watching` on each mailbox, with two queries for the list."""
    by_id = {m.id: m for m in mailboxes}
    for mailbox in mailboxes:
        mailbox.syncing = []
        mailbox.filing = 0
        mailbox.watch_from = watch_from
    if by_id:
        rows = (FolderCheckpoint.select()
                .where(FolderCheckpoint.mailbox.in_(list(by_id))
                       & (FolderCheckpoint.done < FolderCheckpoint.total))
                .order_by(FolderCheckpoint.folder))
        for row in rows:
            by_id[row.mailbox_id].syncing.append(row)
        for mailbox_id, count in pending_by_mailbox(list(by_id)):
            by_id[mailbox_id].filing = count
    now = utcnow()
    for mailbox in mailboxes:
        waiting = (watch_from is not None
                   and now < watch_from + datetime.timedelta(minutes=WATCH_MINUTES)
                   and (mailbox.last_poll_at is None or mailbox.last_poll_at < watch_from))
        mailbox.watching = bool(mailbox.syncing) or bool(mailbox.filing) or waiting


def _timestamp(value):
    try:
        return datetime.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _mailbox_of_form():
    return find(Mailbox, request.form.get("mailbox_id"))


def _form_context(form, mailbox):
    return dict(form=form, mailbox=mailbox, securities=SECURITY_LABELS.items())
