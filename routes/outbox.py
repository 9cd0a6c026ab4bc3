"""The outbox: every outgoing email with its state, for the people who look after it."""
from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from peewee import fn

from mail.outbox import mail_server_configured, retry_now, send_again
from models.emails import STATUSES, Email, EmailAttachment
from models.validation import Invalid

from .access import get_or_404, roles_required
from .rendering import fragment, page_number, page_or_fragment, wants_fragment

bp = Blueprint("outbox", __name__, url_prefix="/outbox")

PAGE_SIZE = 50
OUT_STATUSES = ("queued", "sending", "sent", "failed", "uncertain")
STAFF = ("admin", "manager")


@bp.app_context_processor
def outbox_context():
    # A callable: asked only where an outgoing email's state is drawn.
    return {"mail_configured": mail_server_configured}


@bp.get("/")
@roles_required(*STAFF)
def index():
    state = request.args.get("status") if request.args.get("status") in OUT_STATUSES else ""
    page = page_number()
    query = Email.outgoing(state)
    total = query.count()
    emails = list(query.paginate(page, PAGE_SIZE))
    counts = dict(Email.select(Email.status, fn.COUNT(Email.id))
                  .where(Email.direction == "out")
                  .group_by(Email.status)
                  .tuples())
    return page_or_fragment("outbox/index.html", "outbox/_results.html", emails=emails,
                            total=total, page=page, page_size=PAGE_SIZE, state=state,
                            counts=counts, statuses=[(s, STATUSES[s]) for s in OUT_STATUSES],
                            configured=mail_server_configured(),
                            mail_server=current_app.config.get("MAIL_SERVER"),
                            args={"status": state})


@bp.get("/<int:email_id>")
@roles_required(*STAFF)
def show(email_id):
    email = get_or_404(Email, email_id)
    return page_or_fragment("outbox/show.html", "outbox/_message.html", email=email,
                            attachments=list(email.attachments.select(
                                EmailAttachment.filename, EmailAttachment.size)),
                            configured=mail_server_configured())


def _act(email_id, action, done):
    email = get_or_404(Email, email_id)
    if email.direction != "out":
        return redirect(url_for("outbox.index"), 303)
    try:
        action(email)
        message, category = done, "success"
    except Invalid as invalid:
        message, category = next(iter(invalid.errors.values())), "error"
    email = Email.get_by_id(email.id)
    if wants_fragment():
        return fragment("outbox/_row.html", email=email, note=message, note_category=category,
                        configured=mail_server_configured(),
                        status=409 if category == "error" else 200)
    flash(message, category)
    if request.form.get("back") == "list":
        return redirect(url_for("outbox.index"), 303)
    return redirect(url_for("outbox.show", email_id=email.id), 303)


@bp.post("/<int:email_id>/retry")
@roles_required(*STAFF)
def retry(email_id):
    """Try again at the worker's next run (a minute at most), without waiting for the backoff."""
    return _act(email_id, retry_now, _("The message will be sent at the next run of the worker."))


@bp.post("/<int:email_id>/send-again")
@roles_required(*STAFF)
def resend(email_id):
    """A person checked that a message whose outcome was unknown did not arrive: send it."""
    return _act(email_id, send_again, _("The message is queued to be sent again."))
