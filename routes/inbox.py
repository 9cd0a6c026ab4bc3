"""The triage inbox, one email on its own page, and the answers a reply can give a quote.

Also how every stored email shows (the `email_body` filter: cleaned HTML, quoted history
split off) and the top bar's count of messages waiting.
"""
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from mail.sanitize import email_body, split_text_quote
from models.accounts import Account
from models.emails import INBOUND_STATES, Email
from models.inbox import (WAITING, assign, chosen, clean_assignment, dismiss, received,
                          sender_address, sender_name, triage_reasons, waiting, waiting_count)
from models.quotes import accept, decline
from models.timeline import TimelineEntry, attach_participants
from models.validation import Invalid, parse_int

from . import CONTENT_SECURITY_POLICY
from .access import find, get_or_404
from .rendering import fragment, page_number, page_or_fragment, wants_fragment

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

PAGE_SIZE = 50
ACCOUNT_CHOICES = 8
MAX_BULK = 500
# The one relaxation: a person asked to see this email's images (https only), on its own page.
IMAGES_POLICY = CONTENT_SECURITY_POLICY.replace("img-src 'self' data:",
                                                "img-src 'self' data: https:")


@bp.app_template_filter("email_body")
def email_body_filter(email, show_images=False):
    return email_body(email, show_images=show_images,
                      cid_url=lambda cid: url_for("attachments.inline", email_id=email.id,
                                                  content_id=cid))


@bp.app_context_processor
def inbox_context():
    # A callable: the count runs only where the top bar is drawn, one indexed COUNT.
    return {"inbox_count": waiting_count, "email_states": INBOUND_STATES}


@bp.get("/")
def index():
    """Messages no rule could place, newest first, with why they wait and what to do.

    Without JavaScript the account search comes back here (GET) with the ticks kept."""
    return _listing(selected=request.args.getlist("ids"), form=request.args)


def _listing(errors=None, status=200, selected=(), form=None):
    page = page_number()
    query = waiting()
    total = query.count()
    emails = list(query.paginate(page, PAGE_SIZE))
    form = form or {}
    return page_or_fragment(
        "inbox/index.html", "inbox/_results.html", status=status, emails=emails, total=total,
        page=page, page_size=PAGE_SIZE, reasons=triage_reasons(emails), errors=errors or {},
        selected={str(i) for i in selected}, form=form,
        choices=_choices(form.get("account_q", ""), form.get("account_id")))


@bp.get("/accounts")
def account_choices():
    """Accounts matching what is typed in the assign box (search as you type)."""
    return fragment("inbox/_account_choices.html",
                    choices=_choices(request.args.get("account_q", "")), form={}, errors={})


def _choices(q, chosen=None):
    q = (q or "").strip()
    accounts = list(Account.search(q).limit(ACCOUNT_CHOICES)) if q else []
    picked = find(Account, chosen) if chosen else None
    if picked is not None and picked.id not in {a.id for a in accounts}:
        accounts.insert(0, picked)
    return accounts


@bp.get("/<int:email_id>")
def show(email_id):
    """One received email on its own page; `?images=1` loads its remote (https) images."""
    email = _email(email_id)
    show_images = request.args.get("images") == "1"
    response = page_or_fragment("inbox/show.html", "inbox/_message.html",
                                **_message_context(email, show_images, form=request.args))
    if show_images:
        response.headers["Content-Security-Policy"] = IMAGES_POLICY
    return response


def _email(email_id):
    email_id = parse_int(email_id, minimum=1)
    email = received(email_id) if email_id is not None else None
    if email is None:
        abort(404)
    return email


def _message_context(email, show_images=False, errors=None, form=None):
    form = form or {}
    return dict(email=email, show_images=show_images, errors=errors or {}, form=form,
                waiting=email.inbound_state in WAITING,
                reason=triage_reasons([email]).get(email.id) if email.direction == "in"
                else "",
                choices=_choices(form.get("account_q", ""), form.get("account_id")),
                account=Account.get_or_none(Account.id == email.account_id)
                if email.account_id else None)


def _chosen_emails(form):
    """The messages a form names: `only` (one row's own button) or the ticked `ids` (what is
    no id is left out)."""
    raw = [form["only"]] if form.get("only") else form.getlist("ids")
    return chosen(sorted({parse_int(i, minimum=1) for i in raw} - {None})[:MAX_BULK])


@bp.post("/assign")
def assign_messages():
    """File the chosen messages on an account (and perhaps add or remember the sender)."""
    form = request.form
    emails = _chosen_emails(form)
    back = parse_int(form.get("back"), minimum=1)  # the message page the form was on, if any
    try:
        if not emails:
            raise Invalid({"ids": _("Tick the messages to assign first.")})
        values = clean_assignment(form)
    except Invalid as invalid:
        if back is not None:
            email = _email(back)
            return page_or_fragment("inbox/show.html", "inbox/_message.html", status=422,
                                    **_message_context(email, errors=invalid.errors, form=form))
        return _listing(errors=invalid.errors, status=422, selected=[e.id for e in emails],
                        form=form)
    filed = assign(emails, values["account"], g.user, add_contact=values["add_contact"],
                   remember_sender=values["remember_sender"])
    account = values["account"]
    if filed and (values["add_contact"] or values["remember_sender"]):
        filed += refile_senders(emails)
    if filed:
        flash(ngettext("%(num)s message filed on %(account)s.",
                       "%(num)s messages filed on %(account)s.", filed, account=account.name),
              "success")
    else:
        flash(_("Someone else handled these messages already."), "warning")
    if back is not None:
        return redirect(url_for("accounts.show", account_id=account.id), 303)
    return redirect(url_for("inbox.index"), 303)


def refile_senders(emails):
    """Once a sender is known, their other waiting messages find their way by themselves."""
    from mail.inbound import refile
    addresses = {e.from_addr for e in emails if e.from_addr}
    others = list(Email.select()
                  .where((Email.direction == "in") & (Email.inbound_state == "triage")
                         & Email.from_addr.in_(list(addresses) or [""])))
    for other in others:
        refile(other)
    return sum(1 for other in others if other.inbound_state != "triage")


@bp.post("/dismiss")
def dismiss_messages():
    emails = _chosen_emails(request.form)
    if not emails:
        flash(_("Tick the messages to dismiss first."), "error")
    else:
        count = dismiss(emails)
        flash(ngettext("%(num)s message dismissed. It is kept, not deleted.",
                       "%(num)s messages dismissed. They are kept, not deleted.", count),
              "success")
    return redirect(url_for("inbox.index"), 303)


@bp.post("/<int:email_id>/retry")
def retry(email_id):
    """Read a message that could not be parsed once more (the parser may have improved)."""
    email = get_or_404(Email, email_id)
    if email.direction != "in" or email.inbound_state != "unparsed":
        flash(_("This message was read already."), "warning")
        return redirect(url_for("inbox.index"), 303)
    from mail.inbound import refile
    refile(email)
    email = Email.get_by_id(email.id)
    if email.inbound_state == "unparsed":
        flash(_("The message still cannot be read: %(reason)s", reason=email.parse_error),
              "error")
    elif email.inbound_state == "filed" and email.account_id:
        flash(_("The message was read and filed on its account."), "success")
    else:
        flash(_("The message was read: %(state)s.",
                state=INBOUND_STATES.get(email.inbound_state, email.inbound_state)), "success")
    return redirect(url_for("inbox.index"), 303)


@bp.post("/<int:email_id>/quote/<answer>")
def quote_answer(email_id, answer):
    """A customer's reply to a quote email, turned into the quote's answer with one click."""
    email = _email(email_id)
    if answer not in ("accepted", "declined") or email.quote_id is None:
        abort(404)
    quote = email.quote
    if not quote.can_edit(g.user):
        abort(403)
    status = 200
    try:
        if not email.can_answer_quote:
            raise Invalid({"status": _("This quote has already been answered or was not "
                                       "sent.")})
        if answer == "accepted":
            # The sender's name may be only in the raw message: read it with its bytes.
            name = ((email.contact.name if email.contact_id else "")
                    or sender_name(Email.get_by_id(email.id)) or sender_address(email)
                    or _("the customer"))
            accept(quote, name=name[:120], purchase_order="")
            note = _("Quote %(number)s marked accepted.", number=quote.display_number)
        else:
            decline(quote, reason=_first_line(email))
            note = _("Quote %(number)s marked declined.", number=quote.display_number)
        category = "success"
    except Invalid as invalid:
        note, category, status = str(next(iter(invalid.errors.values()))), "error", 409
    if wants_fragment() and email.timeline_entry_id:
        entry = TimelineEntry.get_by_id(email.timeline_entry_id)
        attach_participants([entry])
        return fragment("timeline/_entry.html", status=status, entry=entry, note=note,
                        note_category=category)
    flash(note, category)
    if email.account_id:
        return redirect(url_for("accounts.show", account_id=email.account_id), 303)
    return redirect(url_for("inbox.show", email_id=email.id), 303)


def _first_line(email):
    new, _quoted = split_text_quote(email.body_text or "")
    for line in new.splitlines():
        if line.strip():
            return line.strip()[:5000]
    return ""
