"""The domain: peewee models and the business rules of each area."""
from .accounts import Account, AccountDomain, AccountTag, AccountTeamMember, Tag
from .contacts import Contact, ContactEmail
from .db import BaseModel, db
from .tasks import Task
from .timeline import TimelineEntry, TimelineParticipant
from .users import ApiToken, LoginAttempt, User

# In dependency order; the migrations create the tables, this list is for tests and tools.
MODELS = [User, ApiToken, LoginAttempt, Account, AccountDomain, Tag, AccountTag,
          AccountTeamMember, Contact, ContactEmail, TimelineEntry, TimelineParticipant, Task]

__all__ = ["MODELS", "BaseModel", "db"] + [m.__name__ for m in MODELS]
