"""Quotes in the API: list, create with lines, read, update while editable, and the actions
submit, approve, reject, send, revise and copy. The rules are models.quotes'; this only
translates."""
from decimal import Decimal

from flask import g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from models.accounts import Account
from models.emails import Email
from models.money import cents
from models.products import Product
from models.quotes import (STATUSES, Quote, approval_reasons, approval_refusal, approve, clean_line,
                           clean_quote_header, copy_quote, create_quote, lines_by_quote, reject,
                           replace_lines, revise, submit, update_header)
from models.users import User
from models.validation import Invalid

from . import (ID, JSON_KINDS, ApiError, bp, choice_arg, forbid_unless, found, int_arg, iso_date,
               iso_datetime, page_by_id, page_response, page_size, read_body, record_response,
               seen_version, user_arg)

# The lines are a list of objects, each checked by clean_line below.
JSON_KINDS.setdefault("objects", (
    lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
    _l("Send a list of objects.")))

HEADER = {"contact_id": "int", "language": "text", "valid_until": "text",
          "payment_terms": "text", "delivery_terms": "text", "introduction": "text"}
WRITABLE = {**HEADER, "lines": "objects", "version": "int"}
READ_ONLY = ("id", "number", "display_number", "revision", "status", "currency", "totals",
             "author", "approved_by", "approved_at", "approval_comment", "approval_reasons",
             "rejected_by", "rejection_comment", "sent_at", "answered_at", "accepted_by_name",
             "purchase_order", "decline_reason", "email", "previous_id", "created_at",
             "updated_at")
# Statuses whose approval_reasons are worth computing: afterwards there is nothing to approve.
BEFORE_APPROVAL = ("draft", "awaiting_approval")
LINE_FIELDS = ("product_id", "description", "quantity", "unit_price", "discount_pct",
               "vat_rate", "cost_price", "unit")
DECIMALS = ("quantity", "unit_price", "discount_pct", "vat_rate", "cost_price")


@bp.get("/quotes")
def list_quotes():
    """Quotes in id order; filters: status, account_id, owner (the author's email).

    A page costs the same queries for any size: the quotes with their people, their lines,
    their emails. approval_reasons (two queries a quote) is left to the single quote."""
    query = _with_people()
    status = choice_arg("status", STATUSES)
    if status:
        query = query.where(Quote.status == status)
    account_id = int_arg("account_id")
    if account_id is not None:
        query = query.where(Quote.account == account_id)
    owner = user_arg("owner")
    if owner is not None:
        query = query.where(Quote.author == owner)
    rows, next_cursor = page_by_id(query, Quote, page_size())
    lines = lines_by_quote(rows)
    emails = Email.of_quotes([q.id for q in rows])
    return page_response([quote_item(q, lines[q.id], emails.get(q.id)) for q in rows],
                         next_cursor)


@bp.post("/quotes")
def post_quote():
    """A new draft with its defaults from the account and contact, then the given header
    fields and lines."""
    body, errors = read_body({**WRITABLE, "account_id": "int"}, READ_ONLY + ("version",))
    account_id = body.pop("account_id", None)
    account = Account.get_or_none(Account.id == account_id) if account_id else None
    if account is None:
        raise Invalid({"account_id": _l("Give the id of an existing account."), **errors})
    forbid_unless(account.can_edit(g.user))
    draft = Quote(account=account, valid_until=None)
    header = _header(body, draft, errors, partial=True)
    items = _lines(body.get("lines") or [], errors)
    if errors:
        raise Invalid(errors)
    quote = create_quote(account, g.user, header.pop("contact", None))
    if header:
        update_header(quote, header, by=g.user)
    if items:
        replace_lines(quote, items, by=g.user)
    return record_response(_quote_item(quote.id), 201, url_for(".get_quote", quote_id=quote.id))


@bp.get(f"/quotes/<{ID}:quote_id>")
def get_quote(quote_id):
    return record_response(_quote_item(quote_id))


@bp.patch(f"/quotes/<{ID}:quote_id>")
def patch_quote(quote_id):
    """Change the header and/or replace all lines, while the quote is editable; a change to an
    approved or awaiting quote puts it back to draft. `version` (or If-Match) guards against
    overwriting someone else's change."""
    quote = _quote(quote_id)
    forbid_unless(quote.can_edit(g.user))
    body, errors = read_body(WRITABLE, READ_ONLY + ("account_id",))
    version = seen_version(body)
    header = _header(body, quote, errors, partial=True)
    items = _lines(body["lines"], errors) if body.get("lines") is not None else None
    if errors:
        raise Invalid(errors)
    if version is None:
        version = quote.version
    if header:
        update_header(quote, header, version, by=g.user)
        version = quote.version
    if items is not None:
        replace_lines(quote, items, version, by=g.user)
    return record_response(_quote_item(quote.id))


@bp.post(f"/quotes/<{ID}:quote_id>/submit")
def submit_quote(quote_id):
    quote = _quote(quote_id)
    forbid_unless(quote.can_edit(g.user))
    body, _errors = _action_body()
    submit(quote, g.user, seen_version(body))
    return record_response(_quote_item(quote.id))


@bp.post(f"/quotes/<{ID}:quote_id>/approve")
def approve_quote(quote_id):
    """A manager or finance approves, with a comment; never a quote they wrote or changed
    (403, as for anyone else who may not approve)."""
    quote = _quote(quote_id)
    body, _errors = _action_body({"comment": "text"})
    _forbid_unless_approver(quote)
    approve(quote, g.user, body.get("comment"), seen_version(body))
    return record_response(_quote_item(quote.id))


@bp.post(f"/quotes/<{ID}:quote_id>/reject")
def reject_quote(quote_id):
    quote = _quote(quote_id)
    body, _errors = _action_body({"comment": "text"})
    _forbid_unless_approver(quote)
    reject(quote, g.user, body.get("comment"), seen_version(body))
    return record_response(_quote_item(quote.id))


def _forbid_unless_approver(quote):
    """403 with the reason: not an approver, the author, or someone who changed the quote."""
    refusal = approval_refusal(g.user, quote)
    if refusal:
        raise ApiError(403, str(refusal))


@bp.post(f"/quotes/<{ID}:quote_id>/send")
def send_quote_now(quote_id):
    """Render, attach the PDF, queue in the outbox and mark the quote sent."""
    from mail.quotes import send_quote
    quote = _quote(quote_id)
    forbid_unless(quote.can_edit(g.user))
    body, _errors = _action_body()
    version = seen_version(body)
    if version is not None and version != quote.version:
        raise ApiError(409, _("Someone else changed this record since you read it. "
                              "Read it again, then apply your change to the new version."))
    send_quote(quote, g.user)
    return record_response(_quote_item(quote.id))


@bp.post(f"/quotes/<{ID}:quote_id>/revise")
def revise_quote(quote_id):
    """The next revision as a draft, from the latest revision of a sent, declined or expired
    quote; a sent one is superseded by it."""
    quote = _quote(quote_id)
    forbid_unless(quote.can_edit(g.user))
    _action_body()
    revision = revise(quote, g.user)
    return record_response(_quote_item(revision.id), 201,
                           url_for(".get_quote", quote_id=revision.id))


@bp.post(f"/quotes/<{ID}:quote_id>/copy")
def copy_quote_now(quote_id):
    """A new quote (new number) with the same content, as a draft of the caller's: whatever
    approval the original had, the copy needs its own."""
    quote = _quote(quote_id)
    forbid_unless(quote.can_edit(g.user))
    _action_body()
    copy = copy_quote(quote, g.user)
    return record_response(_quote_item(copy.id), 201, url_for(".get_quote", quote_id=copy.id))


# --- translating -----------------------------------------------------------------------------

def _action_body(fields=None):
    """An action's optional JSON body: `version` and the action's own fields."""
    if not request.get_data(cache=True).strip():
        return {}, {}
    body, errors = read_body({"version": "int", **(fields or {})})
    if errors:
        raise Invalid(errors)
    return body, errors


def _header(body, quote, errors, partial):
    data = {k: v for k, v in body.items() if k in HEADER}
    if "contact_id" in data:
        data["contact"] = str(data.pop("contact_id") or "")
    if not data:
        return {}
    if quote.valid_until is None:          # a new quote: validity defaults unless given
        partial = True
    try:
        values = clean_quote_header(data, quote, partial=partial)
    except Invalid as invalid:
        errors.update({("contact_id" if k == "contact" else k): v
                       for k, v in invalid.errors.items()})
        return {}
    return values


def _lines(items, errors):
    """The API's lines as replace_lines takes them; messages as lines[i].field."""
    result = []
    product_ids = [i.get("product_id") for i in items if isinstance(i.get("product_id"), int)]
    known = {p.id for p in Product.select(Product.id).where(
        Product.id.in_(product_ids or [0]) & (Product.active == True))}  # noqa: E712
    for index, item in enumerate(items):
        where = f"lines[{index}]"
        unknown = sorted(set(item) - set(LINE_FIELDS))
        if unknown:
            errors[f"{where}.{unknown[0]}"] = _l("There is no such field.")
            continue
        wrong = [k for k in DECIMALS if k in item and item[k] is not None
                 and not isinstance(item[k], str)]
        if wrong:
            errors[f"{where}.{wrong[0]}"] = _l("Send decimals as strings, like \"12.50\".")
            continue
        product_id = item.get("product_id")
        if product_id is not None and (not isinstance(product_id, int) or product_id not in known):
            errors[f"{where}.product_id"] = _l("Give the id of an active product.")
            continue
        data = {k: v for k, v in item.items() if k != "product_id"}
        try:
            values = clean_line(data, free=product_id is None)
        except Invalid as invalid:
            errors.update({f"{where}.{k}": v for k, v in invalid.errors.items()})
            continue
        values["product"] = product_id
        result.append(values)
    return result


def _with_people():
    """Quotes with their account, author and contact, and who approved and who rejected
    them, in one query."""
    Approver, Rejecter = User.alias(), User.alias()
    return (Quote.with_related()
            .select_extend(Approver, Rejecter)
            .switch(Quote)
            .join(Approver, JOIN.LEFT_OUTER, on=(Quote.approved_by == Approver.id))
            .switch(Quote)
            .join(Rejecter, JOIN.LEFT_OUTER, on=(Quote.rejected_by == Rejecter.id)))


def _quote(quote_id):
    return found(_with_people().where(Quote.id == quote_id).first(),
                 _("There is no quote with the id %(id)s.", id=quote_id))


def _quote_item(quote_id):
    """One quote as the single-record endpoints answer it: with its approval_reasons."""
    quote = _quote(quote_id)
    lines = list(quote.ordered_lines())
    reasons = approval_reasons(quote, lines) if quote.status in BEFORE_APPROVAL else []
    return quote_item(quote, lines, Email.of_quote(quote),
                      [str(r) for r in reasons])


def _decimal(value):
    """A quantity, rate or percentage as the same string on every database: "2", "7.5"."""
    if value is None:
        return None
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(amount):
    return format(cents(amount), "f")


def _price(value):
    """A price with at least cents and no trailing zeros beyond: "180.00", "12.3333"."""
    text = _decimal(value)
    whole, _sep, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _person(user):
    return {"id": user.id, "email": user.email, "name": user.name}


def _email(email):
    if email is None:
        return None
    return {"id": email.id, "message_id": email.message_id, "status": email.status,
            "sent_at": iso_datetime(email.sent_at), "last_error": email.last_error}


def quote_item(quote, lines, email=None, reasons=None):
    """A quote as a JSON object; its account, people and contact come joined (_with_people),
    its lines and its email loaded for the page. `reasons` (approval_reasons) only on the
    single quote: left out of the object when None."""
    totals = quote.totals(lines)
    item = {
        "id": quote.id,
        "number": quote.number,
        "display_number": quote.display_number,
        "revision": quote.revision,
        "account_id": quote.account_id,
        "contact_id": quote.contact_id,
        "author": quote.author.email,
        "status": quote.status,
        "language": quote.language,
        "currency": quote.currency,
        "valid_until": iso_date(quote.valid_until),
        "payment_terms": quote.payment_terms,
        "delivery_terms": quote.delivery_terms,
        "introduction": quote.introduction,
        "lines": [{
            "id": line.id,
            "product_id": line.product_id,
            "description": line.description,
            "unit": line.unit,
            "quantity": _decimal(line.quantity),
            "unit_price": _price(line.unit_price),
            "discount_pct": _decimal(line.discount_pct),
            "vat_rate": _decimal(line.vat_rate),
            "cost_price": _price(line.cost_price),
            "net": _money(amounts.net),
        } for line, amounts in zip(lines, totals.lines)],
        "totals": {
            "net": _money(totals.net), "vat": _money(totals.vat),
            "gross": _money(totals.gross), "cost": _money(totals.cost),
            "margin": _money(totals.margin),
            "margin_pct": None if totals.margin_pct is None else format(totals.margin_pct, "f"),
        },
        "approved_by": _person(quote.approved_by) if quote.approved_by_id else None,
        "approved_at": iso_datetime(quote.approved_at),
        "approval_comment": quote.approval_comment,
        "approval_reasons": reasons,
        "rejected_by": _person(quote.rejected_by) if quote.rejected_by_id else None,
        "rejection_comment": quote.rejection_comment,
        "sent_at": iso_datetime(quote.sent_at),
        "email": _email(email),
        "answered_at": iso_datetime(quote.answered_at),
        "accepted_by_name": quote.accepted_by_name,
        "purchase_order": quote.purchase_order,
        "decline_reason": quote.decline_reason,
        "previous_id": quote.previous_id,
        "created_at": iso_datetime(quote.created_at),
        "updated_at": iso_datetime(quote.updated_at),
        "version": quote.version,
    }
    if reasons is None:
        del item["approval_reasons"]
    return item
