"""Quotes: lines, the price calculation, numbering and revisions.

Arithmetic (tested against hand-worked examples in tests/test_quote_totals.py):
- a line's net = quantity × unit price × (1 − discount %), rounded half-up to cents;
- its cost = quantity × cost price, rounded to cents; margin = net − cost;
- VAT is computed per rate on the sum of the nets at that rate, rounded to cents;
- the quote's totals are the sums of the rounded line amounts.
"""
import contextlib
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import force_locale, format_currency, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import (JOIN, CharField, DateField, DateTimeField, DecimalField, ForeignKeyField,
                    IntegrityError, IntegerField, TextField, fn)

from .accounts import Account, contains
from .contacts import Contact, ContactEmail
from .db import BaseModel, VersionedModel, db, utcnow
from .money import HUNDRED, ZERO, cents, percent_of, ratio_pct
from .pricing import agreed_discounts, discount_limit, margin_policy
from .products import Product
from .users import LANGUAGES, User
from .validation import Checker, Invalid, search_term

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
# While a quote is being put together its content may change; a change to an approved or
# awaiting quote sends it back to draft. From "sent" on, a quote is a record: read-only.
EDITABLE = ("draft", "awaiting_approval", "approved")
OPEN = ("draft", "awaiting_approval", "approved", "sent")
APPROVER_ROLES = ("manager", "finance")
# Where each status may go next (staying put is always allowed). Quote.save and save_checked
# refuse anything else, so no code path can jump a quote from draft to accepted.
TRANSITIONS = {
    "draft": ("awaiting_approval", "approved"),                    # submit
    "awaiting_approval": ("approved", "draft"),                    # approve, reject, change
    "approved": ("sent", "draft"),                                 # send, change
    "sent": ("accepted", "declined", "expired", "superseded"),     # answers, expiry, revision
    "accepted": (), "declined": (), "expired": (), "superseded": (),
}
# The statuses a new revision may be made from: a sent quote (superseded by it), and one the
# customer declined or let expire, where the negotiation goes on with a better offer.
REVISABLE = ("sent", "declined", "expired")
# The list's colour per status (UI.md: draft grey, awaiting amber, sent blue, accepted green,
# declined/expired red); the word is always shown too.
STATUS_TONES = {"draft": "grey", "awaiting_approval": "amber", "approved": "teal",
                "sent": "blue", "accepted": "green", "declined": "red", "expired": "red",
                "superseded": "grey"}


class Quote(VersionedModel):
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
    rejected_by = ForeignKeyField(User, null=True, backref="quotes_rejected", on_delete="SET NULL")
    rejection_comment = TextField(default="")
    # Set when the owner got the "about to expire" follow-up task, so it is created once.
    expiry_reminded_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("number", "revision"), True),
                   (("account", "created_at"), False),
                   (("status", "valid_until"), False))

    def __str__(self):
        return self.display_number

    def save(self, *args, **kwargs):
        self._check_transition()
        return super().save(*args, **kwargs)

    def save_checked(self, seen_version):
        self._check_transition()
        return super().save_checked(seen_version)

    def _check_transition(self):
        """Refuse a status change TRANSITIONS does not allow (one query, only when it changes)."""
        if self.id is None or "status" not in self._dirty:
            return
        stored = Quote.select(Quote.status).where(Quote.id == self.id).scalar()
        if stored is not None and stored != self.status and \
                self.status not in TRANSITIONS.get(stored, ()):
            raise Invalid({"status": _l("A quote cannot go from %(old)s to %(new)s.",
                                        old=STATUSES.get(stored, stored),
                                        new=STATUSES.get(self.status, self.status))})

    @property
    def display_number(self):
        return self.number if self.revision == 1 else f"{self.number}-{self.revision}"

    @property
    def status_label(self):
        return STATUSES.get(self.status, self.status)

    @property
    def status_tone(self):
        return STATUS_TONES.get(self.status, "grey")

    @property
    def editable(self):
        return self.status in EDITABLE

    @property
    def owner(self):
        """Who follows the quote up: its author, or the account's owner once the author left."""
        return self.author if self.author.active else self.account.owner

    def can_edit(self, user):
        return user.id == self.author_id or self.account.can_edit(user)

    def approval_covers_content(self, lines=None):
        return bool(self.approved_fingerprint) and \
            self.approved_fingerprint == self.fingerprint(lines)

    @property
    def revisable(self):
        """Whether a new revision may be made from this one (see revise)."""
        return self.status in REVISABLE and self.latest_revision == self.revision

    @property
    def latest_revision(self):
        return (Quote.select(fn.MAX(Quote.revision))
                .where(Quote.number == self.number)
                .scalar())

    def history(self):
        """Every revision of this quote's number, oldest first."""
        return (Quote.select()
                .where(Quote.number == self.number)
                .order_by(Quote.revision))

    @classmethod
    def with_related(cls):
        """Quotes with their account, author and contact loaded in the same query."""
        Author = User.alias()
        return (cls.select(cls, Account, Author, Contact)
                .join(Account)
                .switch(cls)
                .join(Author, on=(cls.author == Author.id))
                .switch(cls)
                .join(Contact, join_type=JOIN.LEFT_OUTER))

    @classmethod
    def listing(cls, status=None, author=None, q=""):
        """The quotes list: newest first; superseded revisions only when asked for. `author`
        an id (0 matches nobody), `q` a search term as typed (search_term)."""
        q = search_term(q)
        query = cls.with_related()
        if status:
            query = query.where(cls.status == status)
        else:
            query = query.where(cls.status != "superseded")
        if author is not None:
            query = query.where(cls.author == author)
        if q:
            query = query.where(contains(Account.search_name, q) | (cls.number == q))
        return query.order_by(cls.created_at.desc(), cls.id.desc())

    @classmethod
    def expiring_for(cls, user, until):
        """Sent quotes of `user` (written by them or on their accounts) valid until `until` at most."""
        return (cls.with_related()
                .where((cls.status == "sent") & (cls.valid_until <= until)
                       & ((cls.author == user) | (Account.owner == user)))
                .order_by(cls.valid_until, cls.id))

    @classmethod
    def awaiting_approval(cls):
        return (cls.with_related()
                .where(cls.status == "awaiting_approval")
                .order_by(cls.updated_at, cls.id))

    @classmethod
    def open_for_account(cls, account):
        return (cls.with_related()
                .where((cls.account == account) & cls.status.in_(OPEN))
                .order_by(cls.created_at.desc(), cls.id.desc()))

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

    @property
    def available(self):
        """What the catalogue can deliver from stock now (None for a free-text line)."""
        return self.product.available if self.product_id and self.product else None

    @property
    def lead_time_days(self):
        return self.product.lead_time_days if self.product_id and self.product else None

    @property
    def short_of_stock(self):
        available = self.available
        return available is not None and Decimal(self.quantity) > available

    @property
    def effective_discount(self):
        """The discount given on top of the agreed price, in percent.

        The line discount, or more when the unit price was lowered below the agreed price
        by hand: typing a lower price is a discount too.
        """
        discount = Decimal(self.discount_pct or 0)
        if self.agreed_price:
            paid = Decimal(self.unit_price) * (HUNDRED - discount) / HUNDRED
            discount = max(discount, HUNDRED - paid * HUNDRED / Decimal(self.agreed_price))
        return discount.quantize(Decimal("0.01"), ROUND_HALF_UP)


class QuoteEditor(BaseModel):
    """Someone who changed a quote's content. Four eyes: they may not approve it, as its
    author may not — editing someone else's quote and approving it oneself is a bypass."""
    quote = ForeignKeyField(Quote, backref="editors", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="quotes_edited", on_delete="CASCADE")

    class Meta:
        indexes = ((("quote", "user"), True),)


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


def lines_by_quote(quotes):
    """{quote_id: [lines in order]} for a page of quotes, in one query."""
    lines = {q.id: [] for q in quotes}
    if lines:
        for line in (QuoteLine.select()
                     .where(QuoteLine.quote.in_(list(lines)))
                     .order_by(QuoteLine.position, QuoteLine.id)):
            lines[line.quote_id].append(line)
    return lines


def totals_by_quote(quotes):
    """{quote_id: Totals} for a page of quotes, with one query for all their lines."""
    return {quote_id: calculate(rows) for quote_id, rows in lines_by_quote(quotes).items()}


# --- input ---------------------------------------------------------------------------------

QUANTITY_PLACES, PRICE_PLACES, PERCENT_PLACES = 3, 4, 2
MAX_AMOUNT = Decimal("99999999")


def _check_line(check, free=False, partial=False):
    check.decimal("quantity", places=QUANTITY_PLACES, positive=True, maximum=MAX_AMOUNT,
                  message=_l("Enter a quantity above 0 with at most 3 decimals, like 2 or 1.5."))
    check.decimal("unit_price", places=PRICE_PLACES, required=free and not partial,
                  maximum=MAX_AMOUNT,
                  message=_l("Enter a price of 0 or more with at most 4 decimals, like 12.50."))
    check.decimal("discount_pct", places=PERCENT_PLACES, required=False, default=ZERO,
                  maximum=HUNDRED,
                  message=_l("Enter a discount from 0 to 100 %, with at most 2 decimals."))
    if free:
        check.text("description", required=True, max_length=2000, multiline=True)
        check.text("unit", max_length=20)
        check.decimal("vat_rate", places=PERCENT_PLACES, maximum=HUNDRED,
                      message=_l("Enter a VAT rate from 0 to 100 %, like 21 or 9."))
        check.decimal("cost_price", places=PRICE_PLACES, required=False, default=ZERO,
                      maximum=MAX_AMOUNT,
                      message=_l("Enter a cost price of 0 or more with at most 4 decimals."))
    else:
        check.text("description", max_length=2000, multiline=True)


def clean_line(data, free=False, partial=False):
    """One line's quantity, unit price and discount (and, for a free-text line, its
    description, unit, VAT rate and cost price): values, or Invalid with a message per field."""
    check = Checker(data, partial=partial)
    _check_line(check, free=free, partial=partial)
    values = check.values
    if not free and "description" in values and not values["description"]:
        del values["description"]  # a product line keeps its catalogue text
    if free and values.get("unit") == "":
        values["unit"] = "pc"
    return check.done()


def clean_lines(form, lines):
    """The builder's line inputs (`quantity-<id>`, `unit_price-<id>`, …) for `lines`:
    {line_id: values}, or Invalid with the messages under the inputs' own names."""
    result, errors = {}, {}
    for line in lines:
        suffix = f"-{line.id}"
        data = {key[:-len(suffix)]: value for key, value in form.items() if key.endswith(suffix)}
        if not data:
            continue
        try:
            result[line.id] = clean_line(data, free=line.product_id is None, partial=True)
        except Invalid as invalid:
            errors.update({f"{name}{suffix}": message for name, message in invalid.errors.items()})
    if errors:
        raise Invalid(errors)
    return result


def clean_quote_header(data, quote, partial=False):
    """The quote's contact, validity, language and terms."""
    check = Checker(data, partial=partial)
    contacts = {str(c.id): c for c in Contact.of_account(quote.account_id)}
    check.choice("contact", contacts, required=False)
    check.date("valid_until", required=True)
    check.choice("language", LANGUAGES)
    check.text("payment_terms", max_length=160)
    check.text("delivery_terms", max_length=160)
    check.text("introduction", max_length=5000, multiline=True)
    values = check.values
    if values.get("contact"):
        values["contact"] = contacts[values["contact"]]
    until = values.get("valid_until")
    if until is not None:
        if until < datetime.date.today() and until != quote.valid_until:
            check.fail("valid_until", _l("The validity date cannot lie in the past."))
        elif until.year > datetime.date.today().year + 5:
            check.fail("valid_until", _l("Enter a date in the next few years."))
    return check.done()


# --- creating and changing -----------------------------------------------------------------

def create_quote(account, author, contact=None):
    """A new draft for `account`: terms from the account, valid 30 days, in the contact's
    language (else the account's), in the account's currency."""
    if contact is not None and contact.account_id != account.id:
        raise Invalid({"contact": _l("Choose a contact of this account.")})
    language = (contact.language if contact is not None else None) or account.language
    with db.atomic():
        return Quote.create(
            number=next_number("Q"), account=account, contact=contact, author=author,
            language=language if language in LANGUAGES else "en", currency=account.currency,
            valid_until=datetime.date.today() + datetime.timedelta(days=VALIDITY_DAYS),
            payment_terms=account.payment_terms, delivery_terms=account.delivery_terms)


def _clear_approval(quote):
    quote.approved_by = None
    quote.approved_at = None
    quote.approval_comment = ""
    quote.approved_fingerprint = ""


@contextlib.contextmanager
def changing(quote, seen_version=None, by=None):
    """Every change to a quote's content goes through here.

    Only while the quote is editable; never over someone else's newer change (the version
    the editor loaded is checked, StaleRecord otherwise); a change to what was approved
    (or is waiting for approval) sends the quote back to draft without its approval; and
    whoever changed the content (`by`) is remembered, so they cannot approve it.
    """
    if quote.status not in EDITABLE:
        raise Invalid({"status": _l("A quote that was sent cannot be changed; revise it instead.")})
    before = quote.fingerprint()
    with db.atomic():
        yield quote
        if quote.fingerprint() != before:
            if quote.status != "draft":
                quote.status = "draft"
            _clear_approval(quote)
            if by is not None and by.id != quote.author_id:
                (QuoteEditor.insert(quote=quote, user=by)
                 .on_conflict_ignore()
                 .execute())
        quote.save_checked(quote.version if seen_version is None else seen_version)


def update_header(quote, values, seen_version=None, by=None):
    with changing(quote, seen_version, by):
        for name in ("contact", "valid_until", "language", "payment_terms", "delivery_terms",
                     "introduction"):
            if name in values:
                setattr(quote, name, values[name])
    return quote


def _next_position(quote):
    last = (QuoteLine.select(fn.MAX(QuoteLine.position))
            .where(QuoteLine.quote == quote)
            .scalar())
    return (last or 0) + 1


def product_line(quote, product, quantity=Decimal("1"), discounts=None):
    """A new (unsaved) line for `product`: its text in the quote's language, its unit, VAT
    and cost, priced at the list price less the account's agreed discount."""
    if discounts is None:
        discounts = agreed_discounts(quote.account, [product])
    agreed = Decimal(discounts.get(product.id, ZERO))
    agreed_price = (Decimal(product.list_price) * (HUNDRED - agreed) / HUNDRED).quantize(
        Decimal("0.0001"), ROUND_HALF_UP)
    name, description = product.text_in(quote.language)
    return QuoteLine(
        quote=quote, product=product, description="\n".join(t for t in (name, description) if t),
        unit=product.unit, quantity=quantity, unit_price=agreed_price, discount_pct=ZERO,
        cost_price=product.cost_price, vat_rate=product.vat_rate, agreed_price=agreed_price)


def add_product_line(quote, product, seen_version=None, quantity=Decimal("1"), by=None):
    if not product.active:
        raise Invalid({"product": _l("This product is no longer sold.")})
    with changing(quote, seen_version, by):
        line = product_line(quote, product, quantity)
        line.position = _next_position(quote)
        line.save()
    return line


def add_free_line(quote, values, seen_version=None, by=None):
    """A free-text line with its own price, VAT and cost (values from clean_line(free=True))."""
    with changing(quote, seen_version, by):
        line = QuoteLine.create(
            quote=quote, position=_next_position(quote), description=values["description"],
            unit=values.get("unit") or "pc", quantity=values["quantity"],
            unit_price=values["unit_price"], discount_pct=values.get("discount_pct") or ZERO,
            vat_rate=values["vat_rate"], cost_price=values.get("cost_price") or ZERO)
    return line


LINE_FIELDS = ("description", "unit", "quantity", "unit_price", "discount_pct", "vat_rate",
               "cost_price")


def update_lines(quote, changes, seen_version=None, remove=(), by=None):
    """Apply {line_id: values} from clean_lines and remove the lines in `remove`, at once."""
    with changing(quote, seen_version, by):
        lines = {line.id: line for line in quote.ordered_lines()}
        for line_id, values in changes.items():
            line = lines.get(line_id)
            if line is None or line_id in remove:
                continue
            fields = {k: v for k, v in values.items() if k in LINE_FIELDS and v is not None}
            if line.product_id is not None:
                fields.pop("vat_rate", None)
                fields.pop("cost_price", None)
            if fields:
                QuoteLine.update(fields).where(QuoteLine.id == line_id).execute()
        gone = [i for i in remove if i in lines]
        if gone:
            QuoteLine.delete().where(QuoteLine.id.in_(gone)).execute()
    return quote


def replace_lines(quote, items, seen_version=None, by=None):
    """Set the quote's lines to `items` (the API's full list): product lines priced from the
    catalogue unless a unit price is given, free-text lines as given."""
    products = {p.id: p for p in Product.select().where(
        Product.id.in_([i["product"] for i in items if i.get("product")] or [0]))}
    with changing(quote, seen_version, by):
        QuoteLine.delete().where(QuoteLine.quote == quote).execute()
        discounts = agreed_discounts(quote.account, list(products.values()))
        for position, item in enumerate(items, start=1):
            if item.get("product"):
                line = product_line(quote, products[item["product"]], item["quantity"], discounts)
                if item.get("unit_price") is not None:
                    line.unit_price = item["unit_price"]
                if item.get("description"):
                    line.description = item["description"]
            else:
                line = QuoteLine(quote=quote, description=item["description"],
                                 unit=item.get("unit") or "pc", quantity=item["quantity"],
                                 unit_price=item["unit_price"], vat_rate=item["vat_rate"],
                                 cost_price=item.get("cost_price") or ZERO)
            line.discount_pct = item.get("discount_pct") or ZERO
            line.position = position
            line.save()
    return quote


# --- approval ------------------------------------------------------------------------------

def approval_reasons(quote, lines=None):
    """Why the quote needs a manager's or finance's approval, in words; empty when it does not."""
    lines = lines if lines is not None else list(quote.ordered_lines())
    policy = margin_policy()
    totals = calculate(lines)
    reasons = []
    if totals.net > policy.approval_threshold:
        reasons.append(_("The net total %(total)s is above the approval threshold of %(limit)s.",
                         total=format_currency(totals.net, quote.currency),
                         limit=format_currency(policy.approval_threshold, quote.currency)))
    if totals.net and totals.margin_pct is not None and \
            totals.margin_pct < policy.min_quote_margin_pct:
        reasons.append(_("The quote's margin of %(pct)s %% is below the minimum of %(min)s %%.",
                         pct=format_decimal(totals.margin_pct), min=format_decimal(policy.min_quote_margin_pct)))
    limit = discount_limit(quote.author.role)
    for number, (line, amounts) in enumerate(zip(lines, totals.lines), start=1):
        label = line.description.splitlines()[0] if line.description else str(number)
        pct = amounts.margin_pct if amounts.net else (None if not amounts.cost else Decimal("-100"))
        if pct is not None and pct < policy.min_line_margin_pct:
            reasons.append(_("Line %(n)s (%(line)s): margin %(pct)s %% is below the minimum of "
                             "%(min)s %% per line.", n=number, line=label, pct=format_decimal(pct),
                             min=format_decimal(policy.min_line_margin_pct)))
        if line.effective_discount > limit:
            reasons.append(_("Line %(n)s (%(line)s): a discount of %(pct)s %% is more than the "
                             "%(limit)s %% your role may give.", n=number, line=label,
                             pct=format_decimal(line.effective_discount), limit=format_decimal(limit)))
    return reasons


def can_approve(user, quote):
    """Managers and finance approve; never a quote they wrote or changed."""
    return approval_refusal(user, quote) is None


def approval_refusal(user, quote):
    """Why `user` may not approve `quote`, in words; None when they may."""
    if user is None or user.role not in APPROVER_ROLES:
        return _l("Only a sales manager or finance can approve quotes.")
    if user.id == quote.author_id:
        return _l("You cannot approve your own quote; ask another manager or someone in "
                  "finance.")
    if QuoteEditor.select().where((QuoteEditor.quote == quote)
                                  & (QuoteEditor.user == user)).exists():
        return _l("You changed this quote, so someone else must approve it: ask another "
                  "manager or someone in finance.")
    return None


def _require_status(quote, *statuses, message):
    if quote.status not in statuses:
        raise Invalid({"status": message})


def submit(quote, by, seen_version=None):
    """Draft → awaiting approval, or straight to approved when nothing needs approval."""
    _require_status(quote, "draft", message=_l("Only a draft can be submitted."))
    lines = list(quote.ordered_lines())
    if not lines:
        raise Invalid({"lines": _l("Add at least one line before submitting the quote.")})
    with db.atomic():
        quote.rejected_by = None
        quote.rejection_comment = ""
        _clear_approval(quote)
        if approval_reasons(quote, lines):
            quote.status = "awaiting_approval"
        else:
            quote.status = "approved"
            quote.approved_at = utcnow()
            quote.approved_fingerprint = quote.fingerprint(lines)
        quote.save_checked(quote.version if seen_version is None else seen_version)
    return quote


def _comment(comment, name="comment"):
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if not comment:
        raise Invalid({name: _l("Write a short comment: it is kept with the quote.")})
    if len(comment) > 2000:
        raise Invalid({name: _l("Keep this under %(n)s characters.", n=2000)})
    return comment


def _check_approver(user, quote):
    refusal = approval_refusal(user, quote)
    if refusal:
        raise Invalid({"status": refusal})


def approve(quote, by, comment, seen_version=None):
    """A manager or finance approves exactly what they saw (the version they loaded)."""
    _check_approver(by, quote)
    _require_status(quote, "awaiting_approval", message=_l("This quote is not waiting for approval."))
    comment = _comment(comment)
    with db.atomic():
        quote.status = "approved"
        quote.approved_by = by
        quote.approved_at = utcnow()
        quote.approval_comment = comment
        quote.approved_fingerprint = quote.fingerprint()
        quote.save_checked(quote.version if seen_version is None else seen_version)
    return quote


def reject(quote, by, comment, seen_version=None):
    """Back to draft, with the reason for the author."""
    _check_approver(by, quote)
    _require_status(quote, "awaiting_approval", message=_l("This quote is not waiting for approval."))
    comment = _comment(comment)
    with db.atomic():
        quote.status = "draft"
        _clear_approval(quote)
        quote.rejected_by = by
        quote.rejection_comment = comment
        quote.save_checked(quote.version if seen_version is None else seen_version)
    return quote


# --- sending and the customer's answer -----------------------------------------------------

def sendable_error(quote):
    """Why the quote cannot be sent now, in words; None when it can."""
    if quote.status == "draft":
        return _("Submit the quote first; it can be sent once it is approved.")
    if quote.status == "awaiting_approval":
        return _("The quote is waiting for approval by a manager or finance.")
    if quote.status != "approved":
        return _("Only an approved quote can be sent; this one is %(status)s.",
                 status=str(quote.status_label).lower())
    lines = list(quote.ordered_lines())
    if not lines:
        return _("The quote has no lines.")
    if not quote.approval_covers_content(lines):
        return _("The quote changed after it was approved; submit it for approval again.")
    if quote.valid_until < datetime.date.today():
        return _("The validity date has passed; change it and submit the quote again.")
    if quote.contact_id is None:
        return _("Choose the contact the quote is for.")
    if not ContactEmail.select().where(ContactEmail.contact == quote.contact_id).exists():
        return _("%(name)s has no email address; add one to the contact first.",
                 name=quote.contact.name)
    return None


def mark_sent(quote, by):
    """Approved → sent; refused (Invalid) when sendable_error has a reason, or when someone
    else changed or sent the quote in the meantime."""
    error = sendable_error(quote)
    if error:
        raise Invalid({"status": error})
    now = utcnow()
    changed = (Quote.update(status="sent", sent_at=now, updated_at=now, version=Quote.version + 1)
               .where((Quote.id == quote.id) & (Quote.status == "approved")
                      & (Quote.version == quote.version))
               .execute())
    if not changed:
        raise Invalid({"status": _("Someone else changed or sent this quote just now; "
                                   "reload it to see its state.")})
    quote.status, quote.sent_at, quote.updated_at = "sent", now, now
    quote.version += 1
    return quote


def _timeline(quote, subject, summary=""):
    from .timeline import TimelineEntry
    return TimelineEntry.create(account=quote.account_id, kind="quote", occurred_at=utcnow(),
                                author=None, subject=subject[:200], summary=summary)


def _answerable(quote, today=None):
    today = today or datetime.date.today()
    if quote.status == "superseded":
        raise Invalid({"status": _("A newer revision of this quote exists; it cannot be "
                                   "answered any more.")})
    if quote.status == "expired" or (quote.status == "sent" and quote.valid_until < today):
        raise Invalid({"status": _("This quote has expired.")})
    if quote.status != "sent":
        raise Invalid({"status": _("This quote has already been answered or was not sent.")})


def _set_answer(quote, **fields):
    now = utcnow()
    changed = (Quote.update(answered_at=now, updated_at=now, version=Quote.version + 1, **fields)
               .where((Quote.id == quote.id) & (Quote.status == "sent"))
               .execute())
    if not changed:
        raise Invalid({"status": _("This quote has already been answered.")})
    for name, value in fields.items():
        setattr(quote, name, value)
    quote.answered_at, quote.updated_at = now, now
    quote.version += 1


def accept(quote, name, purchase_order=""):
    """The customer's yes (only while sent and valid), on the account's timeline."""
    _answerable(quote)
    check = Checker({"name": name, "purchase_order": purchase_order})
    check.text("name", required=True, max_length=120)
    check.text("purchase_order", max_length=60)
    values = check.done()
    with db.atomic():
        _set_answer(quote, status="accepted", accepted_by_name=values["name"],
                    purchase_order=values["purchase_order"])
        with force_locale(quote.account.language):
            summary = _("Purchase order: %(po)s", po=values["purchase_order"]) \
                if values["purchase_order"] else ""
            _timeline(quote, _("Quote %(number)s accepted by %(name)s",
                               number=quote.display_number, name=values["name"]), summary)
    return quote


def decline(quote, reason=""):
    """The customer's no, with their reason, on the account's timeline."""
    _answerable(quote)
    check = Checker({"reason": reason})
    check.text("reason", max_length=5000, multiline=True)
    values = check.done()
    with db.atomic():
        _set_answer(quote, status="declined", decline_reason=values["reason"])
        with force_locale(quote.account.language):
            _timeline(quote, _("Quote %(number)s declined", number=quote.display_number),
                      values["reason"])
    return quote


# --- validity ------------------------------------------------------------------------------

def expire_due_quotes(today=None):
    """The daily job: sent quotes past their validity date expire. Returns how many."""
    today = today or datetime.date.today()
    due = list(Quote.select(Quote, Account)
               .join(Account)
               .where((Quote.status == "sent") & (Quote.valid_until < today)))
    expired = 0
    for quote in due:
        with db.atomic():
            changed = (Quote.update(status="expired", updated_at=utcnow(),
                                    version=Quote.version + 1)
                       .where((Quote.id == quote.id) & (Quote.status == "sent"))
                       .execute())
            if changed:
                expired += 1
                with force_locale(quote.account.language):
                    _timeline(quote, _("Quote %(number)s expired", number=quote.display_number))
    return expired


def remind_before_expiry(days=3, today=None):
    """The daily job: a follow-up task for the owner of each sent quote expiring within
    `days` days, created once per quote. Returns how many tasks it created."""
    from .tasks import Task
    today = today or datetime.date.today()
    Author = User.alias()
    due = list(Quote.select(Quote, Account, Author)
               .join(Account)
               .switch(Quote)
               .join(Author, on=(Quote.author == Author.id))
               .where((Quote.status == "sent") & Quote.expiry_reminded_at.is_null()
                      & (Quote.valid_until >= today)
                      & (Quote.valid_until <= today + datetime.timedelta(days=days))))
    created = 0
    for quote in due:
        with db.atomic():
            claimed = (Quote.update(expiry_reminded_at=utcnow())
                       .where((Quote.id == quote.id) & Quote.expiry_reminded_at.is_null())
                       .execute())
            if not claimed:
                continue
            owner = quote.owner
            with force_locale(owner.language):
                objective = _("Quote %(number)s expires on %(date)s: follow up with the customer.",
                              number=quote.display_number, date=quote.valid_until.isoformat())
            Task.create(account=quote.account_id, contact=quote.contact_id, owner=owner,
                        due_date=today, objective=objective)
            created += 1
    return created


# --- revisions and copies ------------------------------------------------------------------

def _copy_lines(source, target):
    for line in source.ordered_lines():
        QuoteLine.create(quote=target, position=line.position, product=line.product_id,
                         description=line.description, unit=line.unit, quantity=line.quantity,
                         unit_price=line.unit_price, discount_pct=line.discount_pct,
                         cost_price=line.cost_price, vat_rate=line.vat_rate,
                         agreed_price=line.agreed_price)


def _fresh_copy(quote, by, **fields):
    return Quote.create(
        account=quote.account_id, contact=quote.contact_id, author=by, status="draft",
        language=quote.language, currency=quote.currency,
        valid_until=datetime.date.today() + datetime.timedelta(days=VALIDITY_DAYS),
        payment_terms=quote.payment_terms, delivery_terms=quote.delivery_terms,
        introduction=quote.introduction, **fields)


def revise(quote, by):
    """A new revision (same number, next revision) as a draft with the same lines.

    A sent quote is superseded by it and can no longer be answered; a declined or expired
    one keeps its status, the record of how the customer answered. Only the latest revision
    can be revised, once.
    """
    _require_status(quote, *REVISABLE, message=_l("Only a sent, declined or expired quote "
                                                  "can be revised."))
    if not quote.revisable:
        raise Invalid({"status": _l("This quote already has a newer revision; revise that one.")})
    try:
        with db.atomic():
            if quote.status == "sent":
                changed = (Quote.update(status="superseded", updated_at=utcnow(),
                                        version=Quote.version + 1)
                           .where((Quote.id == quote.id) & (Quote.status == "sent"))
                           .execute())
                if not changed:
                    raise Invalid({"status": _l("Someone else revised or answered this quote "
                                                "just now.")})
                quote.status = "superseded"
            revision = _fresh_copy(quote, by, number=quote.number, revision=quote.revision + 1,
                                   previous=quote)
            _copy_lines(quote, revision)
    except IntegrityError:  # someone else made the next revision at the same moment
        raise Invalid({"status": _l("Someone else revised this quote just now.")}) from None
    return revision


def copy_quote(quote, by):
    """A new quote (new number) with the same content, as a draft: it needs its own approval."""
    with db.atomic():
        copy = _fresh_copy(quote, by, number=next_number("Q"))
        _copy_lines(quote, copy)
    return copy


@dataclass
class LineChange:
    kind: str              # changed, added, removed
    description: str
    changes: list = field(default_factory=list)   # [(label, old, new)]


@dataclass
class RevisionDiff:
    old: "Quote"
    new: "Quote"
    lines: list = field(default_factory=list)
    terms: list = field(default_factory=list)     # [(label, old, new)]

    def __bool__(self):
        return bool(self.lines or self.terms)


TERM_LABELS = {"valid_until": _l("Valid until"), "payment_terms": _l("Payment terms"),
               "delivery_terms": _l("Delivery terms"), "introduction": _l("Introduction"),
               "language": _l("Language"), "contact": _l("Contact")}
LINE_LABELS = {"quantity": _l("Quantity"), "unit_price": _l("Unit price"),
               "discount_pct": _l("Discount %")}


def _line_key(line):
    return ("p", line.product_id) if line.product_id else ("t", line.description)


def revision_diff(old, new, old_lines=None, new_lines=None):
    """What changed from one revision to the next: lines changed, added or removed (quantity,
    price, discount) and changed terms. Lines are matched by product, free text by its text."""
    old_lines = old_lines if old_lines is not None else list(old.ordered_lines())
    new_lines = new_lines if new_lines is not None else list(new.ordered_lines())
    diff = RevisionDiff(old=old, new=new)
    for name, label in TERM_LABELS.items():
        before = getattr(old, name + "_id" if name == "contact" else name)
        after = getattr(new, name + "_id" if name == "contact" else name)
        if before != after:
            if name == "contact":
                before, after = (old.contact.name if old.contact else ""), \
                    (new.contact.name if new.contact else "")
            diff.terms.append((label, before, after))
    unmatched = {}
    for line in old_lines:
        unmatched.setdefault(_line_key(line), []).append(line)
    for line in new_lines:
        candidates = unmatched.get(_line_key(line))
        title = line.description.splitlines()[0] if line.description else ""
        if not candidates:
            diff.lines.append(LineChange("added", title, [
                (label, None, getattr(line, name)) for name, label in LINE_LABELS.items()]))
            continue
        before = candidates.pop(0)
        changes = [(label, getattr(before, name), getattr(line, name))
                   for name, label in LINE_LABELS.items()
                   if Decimal(getattr(before, name)) != Decimal(getattr(line, name))]
        if changes:
            diff.lines.append(LineChange("changed", title, changes))
    for lines in unmatched.values():
        for line in lines:
            title = line.description.splitlines()[0] if line.description else ""
            diff.lines.append(LineChange("removed", title, [
                (label, getattr(line, name), None) for name, label in LINE_LABELS.items()]))
    return diff


def history_with_diffs(quote):
    """[(revision, diff from the one before or None)] oldest first, lines in one query."""
    revisions = list(quote.history())
    lines = {r.id: [] for r in revisions}
    for line in (QuoteLine.select()
                 .where(QuoteLine.quote.in_(list(lines)))
                 .order_by(QuoteLine.position, QuoteLine.id)):
        lines[line.quote_id].append(line)
    result, previous = [], None
    for revision in revisions:
        diff = None
        if previous is not None:
            diff = revision_diff(previous, revision, lines[previous.id], lines[revision.id])
        result.append((revision, diff))
        previous = revision
    return result
