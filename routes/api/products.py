"""The catalogue in the API: products (list, create, read, update) and an account's prices."""
from flask import g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.accounts import Account
from models.pricing import (PriceAgreement, agreements_of, clean_agreement, may_set_agreements,
                            remove_agreement, set_agreement)
from models.products import (Product, clean_product, may_edit_catalogue, save_product,
                             texts_by_product)
from models.users import LANGUAGES

from . import (ID, JSON_KINDS, ApiError, bool_arg, bp, field_messages, forbid_unless, found,
               iso_datetime, page_by_id, page_response, page_size, read_body, record_response,
               seen_version)

DECIMALS = ("list_price", "cost_price", "vat_rate", "stock", "reserved")


def _is_texts(value):
    """{"nl": {"name": "…", "description": "…"}, …} for the document languages."""
    return isinstance(value, dict) and all(
        language in LANGUAGES and isinstance(text, dict)
        and set(text) <= {"name", "description"}
        and all(isinstance(v, str) for v in text.values())
        for language, text in value.items())


JSON_KINDS.setdefault("product_texts", (_is_texts, _l(
    "Send an object of languages (en, nl, it, el), each {\"name\": …, \"description\": …}.")))

WRITABLE = {"code": "text", "name": "text", "description": "text", "category": "text",
            "unit": "text", "lead_time_days": "int", "active": "bool",
            "texts": "product_texts", "version": "int", **{name: "text" for name in DECIMALS}}
READ_ONLY = ("id", "created_at", "updated_at")


@bp.get("/products")
def list_products():
    """Products in id order; filters: q (code or name), category, active (true/false)."""
    active = bool_arg("active")
    status = "all" if active is None else ("active" if active else "inactive")
    query = Product.listing(q=request.args.get("q", ""),  # search terms: Product.listing
                            category=request.args.get("category", "") or None,
                            status=status).order_by()
    rows, next_cursor = page_by_id(query, Product, page_size())
    return page_response(product_items(rows), next_cursor)


@bp.post("/products")
def post_product():
    forbid_unless(may_edit_catalogue(g.user))
    body, errors = read_body(WRITABLE, READ_ONLY + ("version",))
    data = {"active": True, **_flatten(body)}
    with field_messages(errors, renamed=_TEXT_NAMES):
        values = clean_product(data)
    product = save_product(values)
    return record_response(product_items([product])[0], 201,
                           url_for(".get_product", product_id=product.id))


@bp.get(f"/products/<{ID}:product_id>")
def get_product(product_id):
    return record_response(product_items([_product(product_id)])[0])


@bp.patch(f"/products/<{ID}:product_id>")
def patch_product(product_id):
    product = _product(product_id)
    forbid_unless(may_edit_catalogue(g.user))
    body, errors = read_body(WRITABLE, READ_ONLY)
    version = seen_version(body)
    with field_messages(errors, renamed=_TEXT_NAMES):
        values = clean_product(_flatten(body), product, partial=True)
    save_product(values, product, seen_version=version)
    return record_response(product_items([Product.get_by_id(product.id)])[0])


def _product(product_id):
    return found(Product.get_or_none(Product.id == product_id),
                 _("There is no product with the id %(id)s.", id=product_id))


# The form's per-language fields as the API names them in messages: texts.nl.name.
_TEXT_NAMES = {f"{kind}_{language}": f"texts.{language}.{kind}"
               for language in LANGUAGES for kind in ("name", "description")}


def _flatten(body):
    """The API's `texts` object as the form's name_nl / description_nl fields."""
    data = dict(body)
    texts = data.pop("texts", None) or {}
    for language, text in texts.items():
        for kind in ("name", "description"):
            if kind in text:
                data[f"{kind}_{language}"] = text[kind]
    return data


def product_items(products):
    """Products as JSON objects, the texts of the whole page in one query."""
    texts = texts_by_product(products)
    return [_item(p, texts[p.id]) for p in products]


def _item(product, texts):
    return {
        "id": product.id,
        "code": product.code,
        "name": product.name,
        "description": product.description,
        "category": product.category,
        "unit": product.unit,
        **{name: _plain_decimal(getattr(product, name)) for name in DECIMALS},
        "available": _plain_decimal(product.available),
        "lead_time_days": product.lead_time_days,
        "active": product.active,
        "texts": {language: {"name": text.name, "description": text.description}
                  for language, text in sorted(texts.items())},
        "created_at": iso_datetime(product.created_at),
        "updated_at": iso_datetime(product.updated_at),
        "version": product.version,
    }


def _plain_decimal(value):
    """A decimal string without exponent: "12.5", "21", "0"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# --- an account's price agreements ---------------------------------------------------------

AGREEMENT_FIELDS = {"category": "text", "product_id": "int", "discount_pct": "text"}


@bp.get(f"/accounts/<{ID}:account_id>/prices")
def list_prices(account_id):
    """All of the account's agreements (never many): {"items": [...], "next": null}."""
    account = _account(account_id)
    return page_response([_agreement_item(a) for a in agreements_of(account)], None)


@bp.post(f"/accounts/<{ID}:account_id>/prices")
def post_price(account_id):
    """Agree a discount for a category or a product; the same subject again updates it."""
    account = _account(account_id)
    forbid_unless(may_set_agreements(g.user))
    body, errors = read_body(AGREEMENT_FIELDS, ("id", "product_code"))
    with field_messages(errors):
        values = clean_agreement(body)
    agreement = set_agreement(account, values)
    agreement = agreements_of(account).where(PriceAgreement.id == agreement.id).get()
    return record_response(_agreement_item(agreement), 201)


@bp.delete(f"/accounts/<{ID}:account_id>/prices/<{ID}:agreement_id>")
def delete_price(account_id, agreement_id):
    account = _account(account_id)
    forbid_unless(may_set_agreements(g.user))
    if not remove_agreement(account, agreement_id):
        raise ApiError(404, _("There is no price agreement with the id %(id)s on this account.",
                              id=agreement_id))
    return "", 204


def _account(account_id):
    return found(Account.get_or_none(Account.id == account_id),
                 _("There is no account with the id %(id)s.", id=account_id))


def _agreement_item(agreement):
    product = agreement.product if agreement.product_id else None
    return {
        "id": agreement.id,
        "category": agreement.category,
        "product_id": agreement.product_id,
        "product_code": product.code if product else None,
        "discount_pct": _plain_decimal(agreement.discount_pct),
    }
