"""Prices agreed with an account and the margins the business allows.

The agreed discount for a product is the product-specific agreement when there is
one, else the agreement for its category, else none.
"""
from decimal import Decimal

from peewee import CharField, DecimalField, ForeignKeyField

from .accounts import Account
from .db import BaseModel
from .products import Product
from .users import ROLES


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
