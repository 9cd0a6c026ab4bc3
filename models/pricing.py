"""Prices agreed with an account and the margins the business allows.

The agreed discount for a product is the product-specific agreement when there is
one, else the agreement for its category, else none.
"""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from peewee import JOIN, CharField, DecimalField, ForeignKeyField

from .accounts import Account
from .db import BaseModel, db
from .products import Product
from .users import ROLES
from .validation import Checker


# An agreed discount applies to every quote for the account without approval, so only those
# who approve discounts (or set the policy) agree them: an account manager agreeing 30 % on
# their own account would otherwise pass their role's limit unchecked.
AGREEMENT_ROLES = ("manager", "finance", "admin")


def may_set_agreements(user):
    return user is not None and user.role in AGREEMENT_ROLES


class PriceAgreement(BaseModel):
    account = ForeignKeyField(Account, backref="price_agreements", on_delete="CASCADE")
    category = CharField(null=True)  # set for a category discount
    product = ForeignKeyField(Product, null=True, backref="price_agreements", on_delete="CASCADE")
    discount_pct = DecimalField(max_digits=5, decimal_places=2, auto_round=False)

    class Meta:
        indexes = ((("account", "category", "product"), True),)


def agreed_discounts(account, products):
    """{product_id: agreed discount %} for `products`, in one query."""
    rows = list(PriceAgreement.select().where(PriceAgreement.account == account))
    by_product = {r.product_id: r.discount_pct for r in rows if r.product_id}
    by_category = {r.category: r.discount_pct for r in rows if r.category}
    return {p.id: by_product.get(p.id, by_category.get(p.category, Decimal("0")))
            for p in products}


class MarginPolicy(BaseModel):
    """The organisation's margin rules; one row, edited by an admin."""
    min_line_margin_pct = DecimalField(max_digits=5, decimal_places=2, default=Decimal("10"),
                                       auto_round=False)
    min_quote_margin_pct = DecimalField(max_digits=5, decimal_places=2, default=Decimal("15"),
                                        auto_round=False)
    # Net quote total above which a manager or finance must approve.
    approval_threshold = DecimalField(max_digits=14, decimal_places=2, default=Decimal("10000"),
                                      auto_round=False)


class RoleDiscountLimit(BaseModel):
    """The largest line discount (on top of agreed prices) a role may give without approval."""
    role = CharField(unique=True)
    max_discount_pct = DecimalField(max_digits=5, decimal_places=2, auto_round=False)


DEFAULT_DISCOUNT_LIMITS = {"account_manager": Decimal("10"), "inside_sales": Decimal("5"),
                           "manager": Decimal("25"), "finance": Decimal("25"),
                           "admin": Decimal("25")}


def margin_policy():
    """The policy row, created with sensible defaults on first use."""
    policy = MarginPolicy.select().order_by(MarginPolicy.id).first()
    return policy or MarginPolicy.create()


def discount_limit(role):
    row = RoleDiscountLimit.get_or_none(RoleDiscountLimit.role == role)
    if row is not None:
        return row.max_discount_pct
    return DEFAULT_DISCOUNT_LIMITS.get(role, Decimal("0")) if role in ROLES else Decimal("0")


# --- editing agreements -------------------------------------------------------------------

DISCOUNT_MESSAGE = _l("Enter a discount from 0 to 100 % with at most 2 decimals, like 7.5.")


def clean_agreement(data, partial=False):
    """A category or product discount for an account: {"category" or "product", "discount_pct"}.

    `product` is given by its code (forms, the API may send `product_id` instead).
    """
    check = Checker(data, partial=partial)
    check.text("category", max_length=80)
    check.text("product", max_length=40)
    check.decimal("discount_pct", places=2, maximum=100, message=DISCOUNT_MESSAGE)
    values = check.values
    category, code = values.get("category"), values.get("product")
    product_id = data.get("product_id")
    if product_id not in (None, ""):
        product = Product.get_or_none(Product.id == product_id) \
            if isinstance(product_id, int) or str(product_id).isdigit() else None
        if product is None:
            check.fail("product_id", _l("There is no product with this id."))
        values["product"] = product
    elif code:
        product = Product.get_or_none(Product.code == code)
        if product is None:
            check.fail("product", _l("There is no product with the code %(code)s.", code=code))
        values["product"] = product
    else:
        values["product"] = None
    if category and values["product"] is not None:
        check.fail("category", _l("Choose a category or a product, not both."))
    elif not category and values["product"] is None and "product" not in check.errors \
            and "product_id" not in check.errors:
        check.fail("category", _l("Choose a category or a product."))
    values["category"] = category or None
    return check.done()


def set_agreement(account, values):
    """Agree a discount for a category or a product; an existing agreement for it is updated."""
    product, category = values.get("product"), values.get("category")
    with db.atomic():
        match = PriceAgreement.account == account
        if product is not None:
            match &= (PriceAgreement.product == product)
        else:
            match &= (PriceAgreement.category == category) & PriceAgreement.product.is_null()
        agreement = PriceAgreement.get_or_none(match)
        if agreement is None:
            agreement = PriceAgreement(account=account, product=product,
                                       category=None if product is not None else category)
        agreement.discount_pct = values["discount_pct"]
        agreement.save()
    return agreement


def remove_agreement(account, agreement_id):
    return (PriceAgreement.delete()
            .where((PriceAgreement.account == account) & (PriceAgreement.id == agreement_id))
            .execute())


def agreements_of(account):
    """The account's agreements with their products: categories first, then products by code."""
    return (PriceAgreement.select(PriceAgreement, Product)
            .join(Product, JOIN.LEFT_OUTER)
            .where(PriceAgreement.account == account)
            .order_by(PriceAgreement.product.is_null(False), PriceAgreement.category,
                      Product.code))


# --- margin policy -----------------------------------------------------------------------

POLICY_FIELDS = ("min_line_margin_pct", "min_quote_margin_pct", "approval_threshold")


def clean_margin_policy(data):
    """The policy and the discount limit of every role, each with its message at the field."""
    check = Checker(data)
    margin_message = _l("Enter a margin from 0 to 100 % with at most 2 decimals, like 15.")
    check.decimal("min_line_margin_pct", places=2, maximum=100, message=margin_message)
    check.decimal("min_quote_margin_pct", places=2, maximum=100, message=margin_message)
    check.decimal("approval_threshold", places=2, maximum=Decimal("999999999999"),
                  message=_l("Enter an amount of 0 or more with at most 2 decimals, like 10000."))
    for role in ROLES:
        check.decimal(f"max_discount_{role}", places=2, maximum=100, message=DISCOUNT_MESSAGE)
    return check.done()


def save_margin_policy(values):
    with db.atomic():
        policy = margin_policy()
        for field in POLICY_FIELDS:
            setattr(policy, field, values[field])
        policy.save()
        for role in ROLES:
            limit = values[f"max_discount_{role}"]
            updated = (RoleDiscountLimit.update(max_discount_pct=limit)
                       .where(RoleDiscountLimit.role == role)
                       .execute())
            if not updated:
                RoleDiscountLimit.create(role=role, max_discount_pct=limit)
    return policy


def margin_policy_form():
    """The policy and the limits as form values."""
    policy = margin_policy()
    values = {field: str(getattr(policy, field)) for field in POLICY_FIELDS}
    limits = {row.role: row.max_discount_pct for row in RoleDiscountLimit.select()}
    for role in ROLES:
        values[f"max_discount_{role}"] = str(limits.get(role, discount_limit(role)))
    return values

