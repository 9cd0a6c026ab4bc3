"""Quotes: lines, the price calculation, numbering and revisions.

Arithmetic (tested against hand-worked examples in tests/test_quote_totals.py):
- a line's net = quantity × unit price × (1 − discount %), rounded half-up to cents;
- its cost = quantity × cost price, rounded to cents; margin = net − cost;
- VAT is computed per rate on the sum of the nets at that rate, rounded to cents;
- the quote's totals are the sums of the rounded line amounts.
"""
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from peewee import (CharField, DateField, DateTimeField, DecimalField, ForeignKeyField,
                    IntegerField, TextField)

from .accounts import Account
from .contacts import Contact
from .db import BaseModel, db, utcnow
from .money import ZERO, cents, percent_of, ratio_pct
from .products import Product
from .users import User

STATUSES = {
    "draft": _l("Draft"),
    "awaiting_approval": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "sent": _l("Sent"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded"),
}
VALIDITY_DAYS = 30


class Quote(BaseModel):
    number = CharField(index=True)          # Q-2026-0007, shared by all revisions
    revision = IntegerField(default=1)      # shown as Q-2026-0007-2 from the second on
    account = ForeignKeyField(Account, backref="quotes", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, backref="quotes", on_delete="SET NULL")
    author = ForeignKeyField(User, backref="quotes_written", on_delete="RESTRICT")
    status = CharField(default="draft", index=True)
    language = CharField(default="en")
    currency = CharField(default="EUR")
    valid_until = DateField()
    payment_terms = CharField(default="")
    delivery_terms = CharField(default="")
    introduction = TextField(default="")
    # Approval covers exactly what was approved: the fingerprint of the content then.
    approved_by = ForeignKeyField(User, null=True, backref="quotes_approved", on_delete="SET NULL")
    approved_at = DateTimeField(null=True)
    approval_comment = TextField(default="")
    approved_fingerprint = CharField(default="")
    sent_at = DateTimeField(null=True)
    answered_at = DateTimeField(null=True)
    accepted_by_name = CharField(default="")
    purchase_order = CharField(default="")
    decline_reason = TextField(default="")
    previous = ForeignKeyField("self", null=True, backref="revisions", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("number", "revision"), True),
                   (("account", "created_at"), False),
                   (("status", "valid_until"), False))

    def __str__(self):
        return self.display_number

    @property
    def display_number(self):
        return self.number if self.revision == 1 else f"{self.number}-{self.revision}"

    @property
    def status_label(self):
        return STATUSES.get(self.status, self.status)

    def ordered_lines(self):
        return (QuoteLine.select(QuoteLine, Product)
                .join(Product, join_type="LEFT OUTER JOIN")
                .where(QuoteLine.quote == self)
                .order_by(QuoteLine.position, QuoteLine.id))

    def totals(self, lines=None):
        return calculate(lines if lines is not None else list(self.ordered_lines()))

    def fingerprint(self, lines=None):
        """A hash of everything a customer would see: lines, prices, discounts, terms."""
        lines = lines if lines is not None else list(self.ordered_lines())
        content = {
            "contact": self.contact_id, "language": self.language, "currency": self.currency,
            "valid_until": str(self.valid_until), "payment_terms": self.payment_terms,
            "delivery_terms": self.delivery_terms, "introduction": self.introduction,
            "lines": [[l.product_id, l.description, str(l.quantity), str(l.unit_price),
                       str(l.discount_pct), str(l.vat_rate), str(l.cost_price), l.unit]
                      for l in lines],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class QuoteLine(BaseModel):
    quote = ForeignKeyField(Quote, backref="lines", on_delete="CASCADE")
    position = IntegerField(default=0)
    product = ForeignKeyField(Product, null=True, backref="quote_lines", on_delete="SET NULL")
    description = TextField(default="")     # free text, or the product's text in the quote language
    unit = CharField(default="pc")
    quantity = DecimalField(max_digits=14, decimal_places=3, auto_round=False)
    unit_price = DecimalField(max_digits=14, decimal_places=4, auto_round=False)
    discount_pct = DecimalField(max_digits=5, decimal_places=2, default=0, auto_round=False)
    cost_price = DecimalField(max_digits=14, decimal_places=4, default=0, auto_round=False)
    vat_rate = DecimalField(max_digits=5, decimal_places=2, auto_round=False)
    # What the unit price was before the line discount (list less agreed discount), for the
    # approval check: the role limit applies to the discount given on top of the agreement.
    agreed_price = DecimalField(max_digits=14, decimal_places=4, null=True, auto_round=False)

    @property
    def net(self):
        return line_amounts(self).net


class DocumentCounter(BaseModel):
    """The last number used per document kind and year (Q-2026-0007)."""
    kind = CharField()
    year = IntegerField()
    last = IntegerField(default=0)

    class Meta:
        indexes = ((("kind", "year"), True),)


def next_number(kind="Q", year=None):
    """The next document number; the counter row is locked so two users never share one."""
    year = year or datetime.date.today().year
    with db.atomic():
        DocumentCounter.insert(kind=kind, year=year, last=0).on_conflict_ignore().execute()
        (DocumentCounter.update(last=DocumentCounter.last + 1)
         .where((DocumentCounter.kind == kind) & (DocumentCounter.year == year))
         .execute())
        last = (DocumentCounter.select(DocumentCounter.last)
                .where((DocumentCounter.kind == kind) & (DocumentCounter.year == year))
                .scalar())
    return f"{kind}-{year}-{last:04d}"


@dataclass
class LineAmounts:
    net: Decimal
    cost: Decimal
    margin: Decimal
    margin_pct: Decimal | None


@dataclass
class Totals:
    net: Decimal = ZERO
    cost: Decimal = ZERO
    margin: Decimal = ZERO
    margin_pct: Decimal | None = None
    vat: Decimal = ZERO
    gross: Decimal = ZERO
    vat_by_rate: dict = field(default_factory=dict)   # {rate: (base, vat)}
    lines: list = field(default_factory=list)          # LineAmounts per line, in order


def line_amounts(line):
    gross_price = Decimal(line.quantity) * Decimal(line.unit_price)
    net = cents(gross_price - percent_of(gross_price, line.discount_pct or 0))
    cost = cents(Decimal(line.quantity) * Decimal(line.cost_price or 0))
    margin = net - cost
    return LineAmounts(net=net, cost=cost, margin=margin, margin_pct=ratio_pct(margin, net))


def calculate(lines):
    """The totals of a quote's lines (see the module's docstring for the rules)."""
    totals = Totals()
    bases = {}
    for line in lines:
        amounts = line_amounts(line)
        totals.lines.append(amounts)
        totals.net += amounts.net
        totals.cost += amounts.cost
        rate = Decimal(line.vat_rate).normalize()
        bases[rate] = bases.get(rate, ZERO) + amounts.net
    for rate in sorted(bases):
        vat = cents(percent_of(bases[rate], rate))
        totals.vat_by_rate[rate] = (bases[rate], vat)
        totals.vat += vat
    totals.margin = totals.net - totals.cost
    totals.margin_pct = ratio_pct(totals.margin, totals.net)
    totals.gross = totals.net + totals.vat
    return totals
