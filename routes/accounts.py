"""Accounts: the list, the account page, creating and editing."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from models.accounts import (COUNT_CAP, CURRENCIES, SIZE_CLASSES, SORTS, STAGES, Account,
                             clean_account,
                             remove_team_member, save_account, set_team_member, tag_names,
                             tags_by_account)
from models.contacts import dmu_of
from models.db import StaleRecord
from models.quotes import Quote, totals_by_quote
from models.tasks import Task
from models.timeline import KINDS, MANUAL_KINDS, page_of
from models.users import LANGUAGES, User
from models.validation import Invalid

from .access import editable_account, find, get_or_404
from .rendering import (field_check, form_response, form_version, id_arg, page_number,
                        page_or_fragment, see_other)

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

PAGE_SIZE = 25
FILTERS = ("q", "owner", "stage", "size_class", "tag", "sort")


@bp.get("/")
def index():
    """The list: search as you type, filter chips, sortable headers, pages."""
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    page = page_number()
    owner = id_arg("owner")
    filters = {"q": args["q"], "owner": owner, "stage": args["stage"] or None,
               "size_class": args["size_class"] or None, "tag": args["tag"] or None}
    accounts, total = Account.list_page(filters, args["sort"] or "name", page, PAGE_SIZE)
    tags = tags_by_account(accounts)
    return page_or_fragment(
        "accounts/index.html", "accounts/_results.html",
        accounts=accounts, tags=tags, total=COUNT_CAP + 1 if total is None else total,
        more_than=COUNT_CAP if total is None else None, page=page, page_size=PAGE_SIZE,
        args=args, owners=list(User.active_users()), stages=STAGES, sizes=SIZE_CLASSES,
        all_tags=tag_names(), sorts=SORTS)


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = {"owner": str(g.user.id), "stage": "prospect", "size_class": "M",
            "language": g.user.language, "currency": "EUR"}
    if request.method == "POST":
        form = request.form
        try:
            account = save_account(clean_account(form))
        except Invalid as invalid:
            return form_response("accounts/new.html", "accounts/_form.html", invalid.errors,
                                 **_form_context(form))
        flash(_("Account %(name)s created.", name=account.name), "success")
        return see_other(url_for("accounts.show", account_id=account.id))
    return page_or_fragment("accounts/new.html", "accounts/_form.html", errors={},
                            **_form_context(form))


@bp.post("/check")
def check():
    """Inline validation: the message the save would give for one field."""
    return field_check(clean_account,
                       find(Account, request.form.get("account_id")))


@bp.get("/<int:account_id>")
def show(account_id):
    """The account page: header, timeline with quick-add, DMU, open tasks, the dossier."""
    account = get_or_404(Account, account_id)
    kind = request.args.get("kind") or None
    entries, next_cursor = page_of(account, kind=kind, before=request.args.get("before"))
    return page_or_fragment(
        "accounts/show.html", "timeline/_timeline.html",
        account=account, entries=entries, next_cursor=next_cursor, kind=kind,
        manual_kinds=MANUAL_KINDS, kinds=KINDS, dmu=dmu_of(account),
        user_options=[(u.id, u.name) for u in User.active_users()],
        tasks=list(Task.open_for_account(account)), can_edit=account.can_edit(g.user),
        team=list(account.team_members()), open_quotes=_open_quotes(account))


@bp.route("/<int:account_id>/edit", methods=["GET", "POST"])
def edit(account_id):
    account = editable_account(account_id)
    if request.method == "POST":
        form = request.form
        try:
            save_account(clean_account(form, account), account, seen_version=form_version(form))
        except Invalid as invalid:
            return form_response("accounts/edit.html", "accounts/_form.html", invalid.errors,
                                 account=account, **_form_context(form))
        except StaleRecord:
            errors = {"_form": _("Someone else changed this account while you were editing. "
                                 "Your changes are below; reload the page to see theirs, then "
                                 "apply yours again.")}
            return form_response("accounts/edit.html", "accounts/_form.html", errors,
                                 status=409, account=account, **_form_context(form))
        flash(_("Changes to %(name)s saved.", name=account.name), "success")
        return see_other(url_for("accounts.show", account_id=account.id))
    return page_or_fragment("accounts/edit.html", "accounts/_form.html", errors={},
                            account=account, **_form_context(_account_form(account)))


@bp.post("/<int:account_id>/team")
def add_member(account_id):
    account = editable_account(account_id)
    user = find(User, request.form.get("user"))
    try:
        if user is None:
            raise Invalid({"user": _("Choose a colleague to add to the team.")})
        set_team_member(account, user, request.form.get("role", ""))
    except Invalid as invalid:
        # The edit page again, the message at the team's field and what was typed kept.
        return render_template("accounts/edit.html", account=account, errors={},
                               team_errors=invalid.errors, team_form=request.form,
                               **_form_context(_account_form(account))), 422
    return redirect(url_for("accounts.edit", account_id=account.id), 303)


@bp.post("/<int:account_id>/team/<int:user_id>/remove")
def remove_member(account_id, user_id):
    account = editable_account(account_id)
    remove_team_member(account, user_id)
    return redirect(url_for("accounts.edit", account_id=account.id), 303)


@bp.post("/<int:account_id>/delete")
def delete(account_id):
    account = get_or_404(Account, account_id)
    if not account.can_delete(g.user):
        abort(403)
    name = account.name
    account.delete_instance(recursive=True)
    flash(_("Account %(name)s deleted.", name=name), "success")
    return redirect(url_for("accounts.index"), 303)


def _open_quotes(account):
    """The side column's open quotes with their totals (two queries)."""
    quotes = list(Quote.open_for_account(account))
    return {"quotes": quotes, "totals": totals_by_quote(quotes)}


def _account_form(account):
    """The stored account as form values (strings, like a submitted form)."""
    values = {field: getattr(account, field) for field in (
        "name", "stage", "size_class", "industry", "street", "postal_code", "city", "country",
        "website", "vat_number", "language", "currency", "payment_terms", "delivery_terms",
        "vision", "purchasing_policy", "competitors", "credit_notes")}
    values.update(owner=str(account.owner_id), stand_in=str(account.stand_in_id or ""),
                  email_domains=", ".join(account.email_domains),
                  tags=", ".join(account.tag_names), version=str(account.version))
    return values


def _form_context(form):
    return dict(form=form, user_options=[(u.id, u.name) for u in User.active_users()],
                stages=STAGES, sizes=SIZE_CLASSES, languages=LANGUAGES,
                currency_options=[(c, c) for c in CURRENCIES])
