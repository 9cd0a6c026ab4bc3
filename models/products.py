"""The catalogue: products and services with their prices, costs, VAT, stock and lead time.

Also the catalogue's CSV: an export of the (filtered) list and an import that first shows
each row as new, update or error, and writes nothing until the user confirms.
"""
import csv
import datetime
import io
import secrets

from flask_babel import lazy_gettext as _l
from peewee import (BlobField, BooleanField, CharField, DateTimeField, DecimalField,
                    ForeignKeyField, IntegerField, IntegrityError, TextField)

from .accounts import contains, search_key
from .db import BaseModel, VersionedModel, db, utcnow
from .users import LANGUAGES, User
from .validation import Checker, Invalid, search_term

SORTS = {
    "code": ("code", "asc"),
    "-code": ("code", "desc"),
    "name": ("search_name", "asc"),
    "-name": ("search_name", "desc"),
    "category": ("category", "asc"),
    "-category": ("category", "desc"),
    "list_price": ("list_price", "asc"),
    "-list_price": ("list_price", "desc"),
    "stock": ("stock", "asc"),
    "-stock": ("stock", "desc"),
}
STATUSES = {"active": _l("Active"), "inactive": _l("Inactive"), "all": _l("Active and inactive")}
# Who maintains the catalogue. Account managers quote from it but do not set list or cost
# prices: a price they could change is a margin they could make look better.
CATALOGUE_ROLES = ("admin", "manager", "finance", "inside_sales")
DECIMAL_FIELDS = {  # name: (decimal places, maximum)
    "list_price": (4, 999999999),
    "cost_price": (4, 999999999),
    "vat_rate": (2, 100),
    "stock": (3, 999999999),
    "reserved": (3, 999999999),
}
TEXT_FIELDS = tuple(f"{kind}_{language}" for language in LANGUAGES
                    for kind in ("name", "description"))
FORM_FIELDS = ("code", "name", "description", "category", "unit", "list_price", "cost_price",
               "vat_rate", "stock", "reserved", "lead_time_days", "active") + TEXT_FIELDS


class Product(VersionedModel):
    code = CharField(unique=True)
    name = CharField()
    search_name = CharField(index=True)
    description = TextField(default="")
    category = CharField(default="", index=True)
    unit = CharField(default="pc")
    list_price = DecimalField(max_digits=14, decimal_places=4, auto_round=False)
    cost_price = DecimalField(max_digits=14, decimal_places=4, auto_round=False)
    vat_rate = DecimalField(max_digits=5, decimal_places=2, auto_round=False)  # percent: 21, 9, 0
    stock = DecimalField(max_digits=14, decimal_places=3, default=0, auto_round=False)
    reserved = DecimalField(max_digits=14, decimal_places=3, default=0, auto_round=False)
    lead_time_days = IntegerField(default=0)
    active = BooleanField(default=True, index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def available(self):
        """What can be delivered from stock now."""
        return self.stock - self.reserved

    def text_in(self, language):
        """(name, description) in `language` where a translation exists, else the default."""
        for text in self.texts:
            if text.language == language:
                return text.name or self.name, text.description or self.description
        return self.name, self.description

    @classmethod
    def search(cls, q="", category=None, include_inactive=False):
        """Products whose code is `q` or whose code or name contains it (search terms, as
        typed: search_term drops what no code or name holds)."""
        q, category = search_term(q), search_term(category)
        query = cls.select()
        if not include_inactive:
            query = query.where(cls.active == True)  # noqa: E712
        if q:
            query = query.where(contains(cls.search_name, q) | (cls.code == q))
        if category:
            query = query.where(cls.category == category)
        return query.order_by(cls.code)

    @classmethod
    def listing(cls, q="", category=None, status="active", sort="code"):
        """Products matching the list's search and filters, not yet paged; `q` and `category`
        are search terms as typed (search_term)."""
        q, category = search_term(q), search_term(category)
        query = cls.select()
        if status == "active":
            query = query.where(cls.active == True)  # noqa: E712
        elif status == "inactive":
            query = query.where(cls.active == False)  # noqa: E712
        if q:
            query = query.where(contains(cls.search_name, q))
        if category:
            query = query.where(cls.category == category)
        column, direction = SORTS.get(sort, SORTS["code"])
        field = getattr(cls, column)
        return query.order_by(field.asc() if direction == "asc" else field.desc(), cls.id)

    def quote_line_count(self):
        from .quotes import QuoteLine  # quotes import products
        return QuoteLine.select().where(QuoteLine.product == self).count()


class ProductText(BaseModel):
    """A product's name and description in one of the document languages."""
    product = ForeignKeyField(Product, backref="texts", on_delete="CASCADE")
    language = CharField()
    name = CharField(default="")
    description = TextField(default="")

    class Meta:
        indexes = ((("product", "language"), True),)


def set_search_name(product):
    product.search_name = search_key(f"{product.code} {product.name}")
    return product


def may_edit_catalogue(user):
    return user is not None and user.role in CATALOGUE_ROLES


def categories():
    """The categories in use, for filters and price agreements."""
    return [c for (c,) in (Product.select(Product.category)
                           .where(Product.category != "")
                           .distinct()
                           .order_by(Product.category)
                           .tuples())]


# --- validation and saving ------------------------------------------------------------------

DECIMAL_MESSAGES = {
    "list_price": _l("Enter a price of 0 or more with at most 4 decimals, like 12.50."),
    "cost_price": _l("Enter a price of 0 or more with at most 4 decimals, like 12.50."),
    "vat_rate": _l("Enter a VAT rate from 0 to 100 with at most 2 decimals, like 21 or 5.5."),
    "stock": _l("Enter a quantity of 0 or more with at most 3 decimals."),
    "reserved": _l("Enter a quantity of 0 or more with at most 3 decimals."),
}


def clean_product(data, product=None, partial=False, check_code=True):
    """Validate product input (form, API or a CSV row) into values for `save_product`.

    `check_code=False` leaves the uniqueness of the code to the caller (the import checks a
    whole file against the catalogue in one query).
    """
    check = Checker(data, partial=partial)
    check.text("code", required=True, max_length=40)
    check.text("name", required=True, max_length=200)
    check.text("description", max_length=5000, multiline=True)
    check.text("category", max_length=80)
    check.text("unit", max_length=20)
    for name, (places, maximum) in DECIMAL_FIELDS.items():
        check.decimal(name, DECIMAL_MESSAGES[name], places=places, maximum=maximum,
                      required=name in ("list_price", "cost_price", "vat_rate"))
    check.integer("lead_time_days", minimum=0)
    check.boolean("active")
    for language in LANGUAGES:
        check.text(f"name_{language}", max_length=200)
        check.text(f"description_{language}", max_length=5000, multiline=True)
    values = check.values
    if "unit" in values and not values["unit"]:
        values["unit"] = "pc"
    for name in ("stock", "reserved", "lead_time_days"):
        if name in values and values[name] is None:
            values[name] = 0
    code = values.get("code")
    if code and any(c.isspace() for c in code):
        check.fail("code", _l("A code cannot contain spaces."))
    elif code and check_code:
        taken = Product.select().where(Product.code == code)
        if product is not None and product.id is not None:
            taken = taken.where(Product.id != product.id)
        if taken.exists():
            check.fail("code", _l("There is already a product with the code %(code)s.",
                                  code=code))
    return check.done()


def save_product(values, product=None, seen_version=None):
    """Create or update a product and its texts; an update refuses to overwrite a newer change."""
    try:
        with db.atomic():
            product = product or Product()
            creating = product.id is None
            for field, value in values.items():
                if field not in TEXT_FIELDS:
                    setattr(product, field, value)
            set_search_name(product)
            if creating:
                product.save()
            else:
                product.save_checked(product.version if seen_version is None else seen_version)
            set_texts(product, values)
    except IntegrityError:
        raise Invalid({"code": _l("There is already a product with the code %(code)s.",
                                  code=values.get("code", product.code))}) from None
    return product


def set_texts(product, values):
    """Store the per-language names and descriptions present in `values` (empty ones removed)."""
    for language in LANGUAGES:
        keys = (f"name_{language}", f"description_{language}")
        if not any(k in values for k in keys):
            continue
        text = ProductText.get_or_none((ProductText.product == product)
                                       & (ProductText.language == language))
        name = values.get(keys[0], text.name if text else "")
        description = values.get(keys[1], text.description if text else "")
        if not name and not description:
            if text is not None:
                text.delete_instance()
        elif text is None:
            ProductText.create(product=product, language=language, name=name,
                               description=description)
        else:
            text.name, text.description = name, description
            text.save()


def product_form(product):
    """The stored product as form values (strings, like a submitted form)."""
    values = {field: getattr(product, field) or "" for field in (
        "code", "name", "description", "category", "unit")}
    for field in DECIMAL_FIELDS:
        values[field] = _plain(getattr(product, field))
    values["lead_time_days"] = str(product.lead_time_days)
    values["active"] = "1" if product.active else ""
    values["version"] = str(product.version)
    for text in product.texts:
        values[f"name_{text.language}"] = text.name
        values[f"description_{text.language}"] = text.description
    return values


def delete_product(product):
    """Delete a product no quote mentions; one on a quote line can only be deactivated."""
    if product.quote_line_count():
        raise Invalid({"_form": _l("This product is on quotes, so it cannot be deleted. "
                                   "Deactivate it instead: the quotes keep it, and it can no "
                                   "longer be added to new ones.")})
    product.delete_instance(recursive=True)


def set_active(product, active):
    Product.update(active=bool(active), updated_at=utcnow(),
                   version=Product.version + 1).where(Product.id == product.id).execute()


def texts_by_product(products):
    """{product_id: {language: ProductText}} for a page of products, in one query."""
    ids = [p.id for p in products]
    result = {i: {} for i in ids}
    for chunk in _chunks(ids):
        for text in ProductText.select().where(ProductText.product.in_(chunk)):
            result[text.product_id][text.language] = text
    return result


def _chunks(items, size=500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- CSV export and import -------------------------------------------------------------------

CSV_COLUMNS = ("code", "name", "description", "category", "unit", "list_price", "cost_price",
               "vat_rate", "stock", "reserved", "lead_time_days", "active") + TEXT_FIELDS
REQUIRED_COLUMNS = ("code", "name", "list_price", "cost_price", "vat_rate")
MAX_IMPORT_ROWS = 20000
MAX_IMPORT_BYTES = 8 * 1024 * 1024


def export_csv(query):
    """The products of `query` as CSV text with the columns the import reads.

    UTF-8 with a BOM and semicolons, which spreadsheet programs in Europe open as columns;
    decimals with a point, which the import reads back exactly.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for chunk in _chunks(list(query), 1000):
        texts = texts_by_product(chunk)
        for p in chunk:
            row = [p.code, p.name, p.description, p.category, p.unit, _plain(p.list_price),
                   _plain(p.cost_price), _plain(p.vat_rate), _plain(p.stock), _plain(p.reserved),
                   p.lead_time_days, "yes" if p.active else "no"]
            for language in LANGUAGES:
                text = texts[p.id].get(language)
                row += [text.name if text else "", text.description if text else ""]
            writer.writerow(row)
    return out.getvalue()


def _plain(value):
    """A Decimal without an exponent and without trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


class ImportRow:
    """One line of an import file: what it would do ("new", "update", "error") and why."""

    def __init__(self, line, data):
        self.line = line
        self.data = data
        self.status = "error"
        self.errors = {}
        self.values = None
        self.product_id = None  # the product a row updates

    @property
    def code(self):
        return (self.data.get("code") or "").strip()

    @property
    def name(self):
        return (self.data.get("name") or "").strip()


class ImportPreview:
    """The outcome of reading an import file: file-level problems or a verdict per row."""

    def __init__(self, rows=(), problem=None, ignored_columns=()):
        self.rows = list(rows)
        self.problem = problem
        self.ignored_columns = list(ignored_columns)

    def count(self, status):
        return sum(1 for row in self.rows if row.status == status)

    @property
    def valid_rows(self):
        return [row for row in self.rows if row.status != "error"]


def read_import(raw, judge=True):
    """Read an uploaded CSV (bytes) against the catalogue: a verdict for every row.

    Semicolon or comma separated (whichever the header line uses), UTF-8 with or without a
    BOM, decimal commas accepted. Rows are matched on code: a known code updates that
    product with the columns the file has, an unknown one makes a new product.
    With `judge=False` only the file itself is checked (encoding, columns, size).
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportPreview(problem=_l("The file is not UTF-8 text. Save it as “CSV UTF-8” "
                                        "and upload it again."))
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
        columns = [h.strip().lower() for h in header]
        if not any(columns):
            return ImportPreview(problem=_l("The file is empty. Its first line must name the "
                                            "columns: %(columns)s.",
                                            columns=", ".join(REQUIRED_COLUMNS)))
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            return ImportPreview(problem=_l(
                "The file has no column %(missing)s. The first line must name the columns, at "
                "least: %(columns)s.", missing=", ".join(missing),
                columns=", ".join(REQUIRED_COLUMNS)))
        known = [(i, c) for i, c in enumerate(columns) if c in CSV_COLUMNS]
        rows = []
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                return ImportPreview(problem=_l("The file has more than %(n)s rows; split it "
                                                "into smaller files.", n=MAX_IMPORT_ROWS))
            row = ImportRow(reader.line_num,
                            {c: fields[i] if i < len(fields) else "" for i, c in known})
            if len(fields) > len(columns) and any(f.strip() for f in fields[len(columns):]):
                row.errors["_row"] = _l("This line has more values than the header has "
                                        "columns.")
            rows.append(row)
    except csv.Error:
        return ImportPreview(problem=_l("The file could not be read as CSV after line "
                                        "%(line)s (an unclosed quote?).", line=reader.line_num))
    if judge:
        _judge(rows)
    return ImportPreview(rows, ignored_columns=[c for c in columns
                                                if c and c not in CSV_COLUMNS])


def _judge(rows):
    """Validate every row and tell new products from updates (matched on code)."""
    # One scan of (code, id) is cheaper than thousands of parameters in IN lists.
    existing = dict(Product.select(Product.code, Product.id).tuples())
    first_line = {}
    for row in rows:
        data = dict(row.data)
        row.product_id = existing.get(row.code)
        if "active" in data or row.product_id is None:
            data["active"] = (data.get("active") or "").strip().lower() or "yes"
        try:
            row.values = clean_product(data, partial=row.product_id is not None,
                                       check_code=False)
        except Invalid as invalid:
            row.errors.update(invalid.errors)
        if row.code:
            if row.code in first_line:
                row.errors.setdefault("code", _l("The code %(code)s is also on line %(line)s.",
                                                 code=row.code, line=first_line[row.code]))
            else:
                first_line[row.code] = row.line
        if not row.errors:
            row.status = "update" if row.product_id is not None else "new"


def apply_import(preview):
    """Write every valid row of a preview in one transaction; the counts per outcome."""
    counts = {"new": 0, "update": 0, "error": preview.count("error")}
    now = utcnow()
    ids = [row.product_id for row in preview.valid_rows if row.status == "update"]
    products = {}
    for chunk in _chunks(ids):
        products.update((p.id, p) for p in Product.select().where(Product.id.in_(chunk)))
    with db.atomic():
        for row in preview.valid_rows:
            values = row.values
            if row.status == "new":
                product = Product(active=True)
            else:
                product = products[row.product_id]
                product.updated_at = now
                product.version += 1
            for field, value in values.items():
                if field not in TEXT_FIELDS:
                    setattr(product, field, value)
            set_search_name(product)
            product.save()
            if any(k in values for k in TEXT_FIELDS):
                set_texts(product, values)
            counts[row.status] += 1
    return counts


class ProductImport(BaseModel):
    """An uploaded import file waiting for the user's confirmation (kept a day at most)."""
    token = CharField(unique=True)
    user = ForeignKeyField(User, backref="product_imports", on_delete="CASCADE")
    filename = CharField(default="")
    data = BlobField()
    created_at = DateTimeField(default=utcnow, index=True)


IMPORT_KEEP = datetime.timedelta(days=1)


def store_import(user, filename, raw):
    """Keep an upload until it is confirmed; forgets uploads older than a day."""
    (ProductImport.delete()
     .where(ProductImport.created_at < utcnow() - IMPORT_KEEP)
     .execute())
    return ProductImport.create(token=secrets.token_urlsafe(24), user=user,
                                filename=(filename or "")[:200], data=raw)


def pending_import(user, token):
    """The user's own pending upload with `token`, or None."""
    return ProductImport.get_or_none((ProductImport.token == token)
                                     & (ProductImport.user == user)
                                     & (ProductImport.created_at >= utcnow() - IMPORT_KEEP))


def confirm_import(upload):
    """Read the stored upload again against the catalogue as it is now, write it, forget it."""
    preview = read_import(bytes(upload.data))
    if preview.problem:
        raise Invalid({"file": preview.problem})
    with db.atomic():
        counts = apply_import(preview)
        upload.delete_instance()
    return counts
