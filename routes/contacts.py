"""Contacts: people at the accounts and their place in the DMU."""
from flask import Blueprint

bp = Blueprint("contacts", __name__, url_prefix="/contacts")


@bp.get("/")
def index():
    return "contacts"


@bp.get("/new/<int:account_id>")
def create(account_id):
    return "new contact"


@bp.get("/<int:contact_id>")
def show(contact_id):
    return "contact"
