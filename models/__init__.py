"""The domain: peewee models and the business rules of each area."""
from .accounts import Account, AccountDomain, AccountTag, AccountTeamMember, Tag
from .contacts import Contact, ContactEmail
from .db import BaseModel, db
from .emails import Email, EmailAttachment
from .inbound import FolderCheckpoint, InboundCopy, Mailbox, SenderRule
from .pricing import MarginPolicy, PriceAgreement, RoleDiscountLimit
from .products import Product, ProductImport, ProductText
from .quotes import DocumentCounter, Quote, QuoteEditor, QuoteLine
from .settings import CompanySettings
from .tasks import Task
from .timeline import TimelineEntry, TimelineParticipant
from .users import ApiToken, LoginAttempt, User

# In dependency order; the migrations create the tables, this list is for tests and tools.
MODELS = [User, ApiToken, LoginAttempt, Account, AccountDomain, Tag, AccountTag,
          AccountTeamMember, Contact, ContactEmail, TimelineEntry, TimelineParticipant, Task]

# Quotes, the catalogue and outgoing mail (migrations/0002_quotes.py).
QUOTE_MODELS = [CompanySettings, Product, ProductText, ProductImport, PriceAgreement,
                MarginPolicy, RoleDiscountLimit, DocumentCounter, Quote, QuoteLine, Email,
                EmailAttachment]

# Inbound mail: mailboxes, checkpoints, copies, remembered senders (migrations/0003_inbound.py).
INBOUND_MODELS = [Mailbox, FolderCheckpoint, InboundCopy, SenderRule]

# Later changes, one migration each (migrations/0004_quote_editors.py, …).
LATER_MODELS = [QuoteEditor]

ALL_MODELS = MODELS + QUOTE_MODELS + INBOUND_MODELS + LATER_MODELS

__all__ = ["MODELS", "QUOTE_MODELS", "INBOUND_MODELS", "LATER_MODELS", "ALL_MODELS", "BaseModel", "db"] + [
    m.__name__ for m in ALL_MODELS]
