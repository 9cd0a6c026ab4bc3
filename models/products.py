"""The catalogue: products and services with their prices, costs, VAT, stock and lead time."""
from peewee import BooleanField, CharField, DecimalField, ForeignKeyField, IntegerField, TextField

from .accounts import contains, search_key
from .db import BaseModel, utcnow  # noqa: F401  (utcnow for callers stamping imports)


class Product(BaseModel):
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
        query = cls.select()
        if not include_inactive:
            query = query.where(cls.active == True)  # noqa: E712
        if q:
            query = query.where(contains(cls.search_name, q) | (cls.code == q.strip()))
        if category:
            query = query.where(cls.category == category)
        return query.order_by(cls.code)


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
