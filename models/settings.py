"""The company's own details, shown on every document and email a customer receives."""
from peewee import BlobField, CharField, TextField

from .db import BaseModel


class CompanySettings(BaseModel):
    """One row, edited by an admin."""
    name = CharField(default="Your Company")
    address = TextField(default="")
    email = CharField(default="")
    phone = CharField(default="")
    website = CharField(default="")
    vat_number = CharField(default="")
    bank_account = CharField(default="")   # IBAN, printed on quotes
    accent_color = CharField(default="#2457c5")
    logo = BlobField(null=True)
    logo_type = CharField(default="")      # image/png, image/svg+xml, image/jpeg


def company():
    """The settings row, created with defaults on first use."""
    row = CompanySettings.select().order_by(CompanySettings.id).first()
    return row or CompanySettings.create()
