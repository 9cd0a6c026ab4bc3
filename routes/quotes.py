"""Quotes: the list, a new quote from the account, the builder, approval and the actions."""
from flask import Blueprint, abort, current_app, flash, g, request, url_for
from flask_babel import gettext as _

from models.accounts import Account
from models.contacts import Contact
from models.db import StaleRecord
from models.emails import Email
from models.products import Product
from models.quotes import (APPROVER_ROLES, LINE_LABELS, STATUSES, Quote, add_free_line, add_product_line,
                           approval_reasons, approval_refusal, approve, clean_line, clean_lines,
                           clean_quote_header, copy_quote, create_quote, history_with_diffs,
                           reject, revise, sendable_error, submit, totals_by_quote,
                           update_header, update_lines)
from models.users import LANGUAGES, User
from models.validation import Invalid, parse_int

from .access import find, get_or_404
from .rendering import (form_response, form_version, fragment, id_arg, page_number,
                        page_or_fragment, see_other, wants_fragment)

bp = Blueprint("quotes", __name__)

PAGE_SIZE = 25
PRODUCT_RESULTS = 10
FILTERS = ("status", "owner", "q")


def stale_message():
    return _("Someone else changed this quote while you were working on it. Reload the page "
             "to see their version, then apply your change again.")


# --- lists ---------------------------------------------------------------------------------

@bp.get("/quotes/")
def index():
    """Every current quote: filter by status, owner and account; newest first."""
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    page = page_number()
    status = args["status"] if args["status"] in STATUSES else None
    query = Quote.listing(status=status, author=id_arg("owner"), q=args["q"])
    total = query.count()
    quotes = list(query.paginate(page, PAGE_SIZE))
    return page_or_fragment(
        "quotes/index.html", "quotes/_results.html",
        quotes=quotes, totals=totals_by_quote(quotes), total=total, page=page,
        page_size=PAGE_SIZE, args=args, statuses=STATUSES, owners=list(User.active_users()))


@bp.get("/quotes/approvals")
def approvals():
    """The approval queue of managers and finance."""
    if g.user.role not in ("manager", "finance"):
        abort(403)
    quotes = list(Quote.awaiting_approval())
    return page_or_fragment("quotes/approvals.html", "quotes/_queue.html",
                            quotes=quotes, totals=totals_by_quote(quotes))


# --- a new quote ---------------------------------------------------------------------------

@bp.route("/accounts/<int:account_id>/quotes/new", methods=["GET", "POST"])
def create(account_id):
    account = get_or_404(Account, account_id)
    if not account.can_edit(g.user):
        abort(403)
    contacts = list(Contact.of_account(account))
    form = request.form if request.method == "POST" else {
        "contact": str(contacts[0].id) if len(contacts) == 1 else ""}
    if request.method == "POST":
        chosen = {str(c.id): c for c in contacts}.get(form.get("contact", ""))
        if form.get("contact") and chosen is None:
            return form_response("quotes/new.html", "quotes/_new_form.html",
                                 {"contact": _("Choose a contact of this account.")},
                                 account=account, contacts=contacts, form=form)
        quote = create_quote(account, g.user, chosen)
        flash(_("Quote %(number)s started.", number=quote.display_number), "success")
        return see_other(url_for("quotes.show", quote_id=quote.id))
    return page_or_fragment("quotes/new.html", "quotes/_new_form.html", errors={},
                            account=account, contacts=contacts, form=form)


# --- the builder ---------------------------------------------------------------------------

def _quote(quote_id):
    return get_or_404(Quote, quote_id)


def _editable_quote(quote_id):
    quote = _quote(quote_id)
    if not quote.can_edit(g.user):
        abort(403)
    return quote


def _builder_context(quote, lines=None, form=None, errors=None, products=None, q=""):
    """What the lines fragment shows: the lines, their amounts and totals (no other queries)."""
    lines = lines if lines is not None else list(quote.ordered_lines())
    return dict(
        quote=quote, lines=lines, totals=quote.totals(lines), form=form or {},
        errors=errors or {}, can_edit=quote.can_edit(g.user),
        editing=quote.editable and quote.can_edit(g.user), products=products, q=q,
        dirty=False)


@bp.get("/quotes/<int:quote_id>")
def show(quote_id):
    """The quote builder; for htmx, only the lines and totals."""
    quote = (Quote.with_related().where(Quote.id == quote_id).first())
    if quote is None:
        abort(404)
    q = request.args.get("q", "").strip()
    products = list(Product.search(q).limit(PRODUCT_RESULTS)) if q else None
    context = _builder_context(quote, products=products, q=q)
    if not wants_fragment():
        context.update(_page_context(quote, context["lines"]))
    return page_or_fragment("quotes/show.html", "quotes/_lines.html", **context)


def _page_context(quote, lines, header_form=None, header_errors=None):
    """What the whole page adds to the lines: details form, actions, approval reasons,
    the revision history."""
    history = history_with_diffs(quote) if quote.revision > 1 or quote.status == "superseded" \
        else []
    editing = quote.editable and quote.can_edit(g.user)
    contacts = list(Contact.of_account(quote.account_id)) if editing else []
    return dict(
        reasons=approval_reasons(quote, lines) if lines else [],
        approval_current=quote.approval_covers_content(lines),
        history=history, line_labels=LINE_LABELS, contact_options=[(c.id, c.name) for c in contacts],
        languages=LANGUAGES, header_form=header_form or _header_form(quote),
        header_errors=header_errors or {},
        approval_refusal=(approval_refusal(g.user, quote)
                          if quote.status == "awaiting_approval" else None),
        is_approver=g.user.role in APPROVER_ROLES,
        quote_email=Email.of_quote(quote) if quote.sent_at else None,
        may_revise=quote.can_edit(g.user) and quote.revisable,
        send_error=sendable_error(quote) if quote.status == "approved" else None,
        has_documents="documents.preview" in current_app.view_functions)


def _header_form(quote):
    return {"contact": str(quote.contact_id or ""), "valid_until": quote.valid_until.isoformat(),
            "language": quote.language, "payment_terms": quote.payment_terms,
            "delivery_terms": quote.delivery_terms, "introduction": quote.introduction,
            "version": str(quote.version)}


@bp.post("/quotes/<int:quote_id>/recalculate")
def recalculate(quote_id):
    """The live recalculation while the user types: the lines and totals computed from the
    typed values, not saved (Save keeps them). Always the fragment."""
    quote = _editable_quote(quote_id)
    lines = list(quote.ordered_lines())
    errors = {}
    try:
        changes = clean_lines(request.form, lines)
    except Invalid as invalid:
        errors = invalid.errors
        changes = _valid_part(request.form, lines)
    dirty = False
    for line in lines:
        for name, value in changes.get(line.id, {}).items():
            if value is not None and name in ("quantity", "unit_price", "discount_pct",
                                              "description"):
                dirty = dirty or str(getattr(line, name)) != str(value)
                setattr(line, name, value)
    context = _builder_context(quote, lines=lines, form=request.form, errors=errors)
    context["dirty"] = dirty or bool(errors)
    return fragment("quotes/_lines.html", status=422 if errors else 200, **context)


def _valid_part(form, lines):
    """The typed values that are valid, field by field, so the totals follow what can be read."""
    changes = {}
    for line in lines:
        for name in ("quantity", "unit_price", "discount_pct"):
            try:
                changes.setdefault(line.id, {}).update(
                    clean_line({name: form.get(f"{name}-{line.id}")}, partial=True))
            except Invalid:
                pass
    return changes


@bp.post("/quotes/<int:quote_id>/lines")
def save_lines(quote_id):
    """Save the typed lines, and add a product or a free-text line or remove one, at once."""
    quote = _editable_quote(quote_id)
    lines = list(quote.ordered_lines())
    form = request.form
    version = form_version(form)
    try:
        changes = clean_lines(form, lines)
        remove = {parse_int(v, minimum=1) for v in form.getlist("remove")} - {None}
        free = None
        if form.get("add_free"):
            try:
                free = clean_line({k.removeprefix("new_"): v for k, v in form.items()
                                   if k.startswith("new_")}, free=True)
            except Invalid as invalid:
                raise Invalid({f"new_{k}": v for k, v in invalid.errors.items()})
        product = None
        if form.get("add_product"):
            product = find(Product, form.get("add_product"))
            if product is None:
                raise Invalid({"product": _("Choose a product from the catalogue.")})
        update_lines(quote, changes, version, remove=remove, by=g.user)
        if free is not None:
            add_free_line(quote, free, by=g.user)
        if product is not None:
            add_product_line(quote, product, by=g.user)
    except Invalid as invalid:
        return _builder_error(quote, lines, invalid.errors, 422)
    except StaleRecord:
        return _builder_error(quote, lines, {"_form": stale_message()}, 409)
    if free is not None or product is not None:
        flash(_("Line added."), "success")
    else:
        flash(_("Lines saved."), "success")
    return see_other(url_for("quotes.show", quote_id=quote.id) + "#lines")


def _builder_error(quote, lines, errors, status):
    quote = Quote.get_by_id(quote.id)
    context = _builder_context(quote, lines=lines, form=request.form, errors=errors)
    context["dirty"] = True
    return form_response("quotes/show.html", "quotes/_lines.html", errors, status=status,
                         **{k: v for k, v in context.items() if k != "errors"},
                         **_page_context(quote, lines))


@bp.post("/quotes/<int:quote_id>/header")
def save_header(quote_id):
    quote = _editable_quote(quote_id)
    form = request.form
    try:
        update_header(quote, clean_quote_header(form, quote), form_version(form), by=g.user)
    except (Invalid, StaleRecord) as problem:
        status = 409 if isinstance(problem, StaleRecord) else 422
        errors = {"_form": stale_message()} if status == 409 else problem.errors
        quote = Quote.get_by_id(quote.id)
        context = _builder_context(quote)
        del context["errors"]
        return form_response("quotes/show.html", "quotes/_header_form.html", errors,
                             status=status, **context,
                             **_page_context(quote, context["lines"], header_form=form,
                                             header_errors=errors))
    flash(_("Quote details saved."), "success")
    return see_other(url_for("quotes.show", quote_id=quote.id))


# --- actions -------------------------------------------------------------------------------

def _act(quote, action, done_message, url=None):
    """Run a state change; its refusal comes back as a message on the quote page."""
    try:
        result = action()
    except Invalid as invalid:
        flash(" ".join(str(m) for m in invalid.errors.values()), "error")
        return see_other(url_for("quotes.show", quote_id=quote.id))
    except StaleRecord:
        flash(stale_message(), "error")
        return see_other(url_for("quotes.show", quote_id=quote.id))
    flash(done_message(result) if callable(done_message) else done_message, "success")
    return see_other(url or url_for("quotes.show", quote_id=(result or quote).id))


@bp.post("/quotes/<int:quote_id>/submit")
def submit_quote(quote_id):
    quote = _editable_quote(quote_id)
    return _act(quote, lambda: submit(quote, g.user, form_version(request.form)),
                lambda q: _("Approved: the quote can be sent.") if q.status == "approved"
                else _("Submitted for approval."))


@bp.post("/quotes/<int:quote_id>/approve")
def approve_quote(quote_id):
    quote = _quote(quote_id)
    if g.user.role not in ("manager", "finance"):
        abort(403)
    return _act(quote, lambda: approve(quote, g.user, request.form.get("comment"),
                                       form_version(request.form)),
                _("Quote approved."))


@bp.post("/quotes/<int:quote_id>/reject")
def reject_quote(quote_id):
    quote = _quote(quote_id)
    if g.user.role not in ("manager", "finance"):
        abort(403)
    return _act(quote, lambda: reject(quote, g.user, request.form.get("comment"),
                                      form_version(request.form)),
                _("Quote sent back to its author as a draft."))


@bp.post("/quotes/<int:quote_id>/send")
def send(quote_id):
    """Send the approved quote by email (rendered, PDF attached, queued in the outbox)."""
    quote = _editable_quote(quote_id)
    if form_version(request.form) != quote.version:  # missing or garbled: stale too
        flash(stale_message(), "error")
        return see_other(url_for("quotes.show", quote_id=quote.id))
    try:
        from mail.quotes import send_quote
    except ImportError:
        flash(_("Sending quotes by email is not available yet."), "error")
        return see_other(url_for("quotes.show", quote_id=quote.id))

    def send_it():
        send_quote(quote, g.user)
        return quote
    return _act(quote, send_it, _("The quote is in the outbox and will be sent shortly."))


@bp.post("/quotes/<int:quote_id>/revise")
def revise_quote(quote_id):
    quote = _editable_quote(quote_id)
    return _act(quote, lambda: revise(quote, g.user),
                lambda q: _("Revision %(number)s started as a draft.", number=q.display_number))


@bp.post("/quotes/<int:quote_id>/copy")
def copy(quote_id):
    quote = _editable_quote(quote_id)
    return _act(quote, lambda: copy_quote(quote, g.user),
                lambda q: _("Copied to %(number)s, a new draft.", number=q.display_number))


@bp.get("/quotes/<int:quote_id>/products")
def products(quote_id):
    """The product picker's results as the user types (always the fragment)."""
    quote = _editable_quote(quote_id)
    q = request.args.get("q", "").strip()
    found = list(Product.search(q).limit(PRODUCT_RESULTS)) if q else []
    return fragment("quotes/_product_results.html", quote=quote, products=found, q=q,
                    editing=quote.editable)
