"""Follow-up tasks: who does what, with whom, by when, with which objective."""
import datetime

from flask_babel import lazy_gettext as _l
from peewee import JOIN, BooleanField, DateField, DateTimeField, ForeignKeyField, TextField

from .accounts import Account
from .contacts import Contact
from .db import BaseModel, db, utcnow
from .timeline import TimelineEntry, clean_entry, record_entry
from .users import User
from .validation import Checker, Invalid, parse_int


class Task(BaseModel):
    account = ForeignKeyField(Account, backref="tasks", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, backref="tasks", on_delete="SET NULL")
    owner = ForeignKeyField(User, backref="tasks", on_delete="RESTRICT")
    due_date = DateField()
    objective = TextField()
    done = BooleanField(default=False)
    done_at = DateTimeField(null=True)
    # Set by the daily job and on every save; lets lists and the API say "overdue"
    # without each reader working out "today" in its own time zone.
    overdue = BooleanField(default=False)
    timeline_entry = ForeignKeyField(TimelineEntry, null=True, backref="next_steps",
                                     on_delete="SET NULL")
    created_by = ForeignKeyField(User, null=True, backref="tasks_created", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "done", "due_date"), False),
                   (("account", "done", "due_date"), False))

    def set_done(self, done):
        self.done = bool(done)
        self.done_at = utcnow() if self.done else None
        self.save()

    def save(self, *args, **kwargs):
        self.overdue = (not self.done) and self.due_date is not None and \
            _as_date(self.due_date) < datetime.date.today()
        return super().save(*args, **kwargs)

    def can_change(self, user):
        return user.leads_team or user.id in (self.owner_id, self.created_by_id) or \
            self.account.can_edit(user)

    @classmethod
    def with_related(cls):
        """Tasks with their account, contact and owner loaded in the same query (only the
        columns a task list shows: an account's dossier is not read for every task)."""
        Owner = User.alias()
        return (cls.select(cls, Account.id, Account.name, Account.owner, Account.stand_in,
                           Contact.id, Contact.first_name, Contact.last_name, Owner.id,
                           Owner.name, Owner.email)
                .join(Account)
                .switch(cls)
                .join(Contact, join_type=JOIN.LEFT_OUTER)
                .switch(cls)
                .join(Owner, on=(cls.owner == Owner.id)))

    @classmethod
    def open_for_account(cls, account):
        return (cls.with_related()
                .where((cls.account == account) & (cls.done == False))  # noqa: E712
                .order_by(cls.due_date, cls.id))

    @classmethod
    def due_for(cls, user, until, since=None):
        """Open tasks of `user` due on or before `until` (and from `since`), and those of the
        owners they stand in for."""
        away_owners = User.select(User.id).where(User.away == True)  # noqa: E712
        stand_in_accounts = (Account.select(Account.id)
                             .where((Account.stand_in == user) & Account.owner.in_(away_owners)))
        mine = (cls.owner == user) | (cls.account.in_(stand_in_accounts) & cls.owner.in_(away_owners))
        query = (cls.with_related()
                 .where(mine & (cls.done == False) & (cls.due_date <= until)))  # noqa: E712
        if since is not None:
            query = query.where(cls.due_date >= since)
        return query.order_by(cls.due_date, cls.id)


def _as_date(value):
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def clean_task(data, partial=False, account=None):
    """Validate a task; `contact` must be one of `account`'s, checked here with the other
    fields so that one answer names every field that is wrong (a Contact in the values)."""
    check = Checker(data, partial=partial)
    check.text("objective", required=True, max_length=2000, multiline=True)
    check.date("due_date", required=True)
    owners = {str(u.id): u for u in User.active_users()}
    check.choice("owner", owners)
    check.record("contact", lambda contact_id: _contact_or_none(account, contact_id),
                 _l("Choose a contact of this account."))
    values = check.values
    if values.get("owner"):
        values["owner"] = owners[values["owner"]]
    if values.get("due_date") and values["due_date"].year > 2200:
        check.fail("due_date", _l("Enter a date in the next few years."))
    return check.done()


def create_task(account, values, created_by, timeline_entry=None):
    contact = _contact_of(account, values.get("contact"))
    return Task.create(account=account, contact=contact, owner=values["owner"],
                       due_date=values["due_date"], objective=values["objective"],
                       timeline_entry=timeline_entry, created_by=created_by,
                       overdue=_as_date(values["due_date"]) < datetime.date.today())


def update_task(task, values):
    if "contact" in values:
        task.contact = _contact_of(task.account, values["contact"])
    for field in ("owner", "due_date", "objective"):
        if field in values:
            setattr(task, field, values[field])
    if "done" in values:
        task.set_done(values["done"])
    else:
        task.save()
    return task


def _contact_or_none(account, contact_id):
    """The account's contact with this id, or None. Without an account (an API call naming
    none that exists, which is its own error) only the id itself can be checked."""
    if account is None:
        return contact_id
    return Contact.get_or_none((Contact.id == contact_id) & (Contact.account == account))


def _contact_of(account, contact):
    """The contact (a Contact, as clean_task gives it, or an id) if it is one of the account's;
    None for none; Invalid when it is not."""
    if contact is None or contact == "":
        return None
    if isinstance(contact, Contact) and contact.account_id == account.id:
        return contact
    contact_id = contact.id if isinstance(contact, Contact) else parse_int(contact, minimum=1)
    found = _contact_or_none(account, contact_id) if contact_id is not None else None
    if found is None:
        raise Invalid({"contact": _l("Choose a contact of this account.")})
    return found


def mark_overdue_tasks(today=None):
    """The daily job: flag open tasks whose due date has passed. Returns how many changed."""
    today = today or datetime.date.today()
    flagged = (Task.update(overdue=True)
               .where((Task.done == False) & (Task.overdue == False) & (Task.due_date < today))  # noqa: E712
               .execute())
    Task.update(overdue=False).where(
        (Task.overdue == True) & ((Task.done == True) | (Task.due_date >= today))).execute()  # noqa: E712
    return flagged


def record_with_next_step(account, author, data, timezone_name):
    """Log a contact moment and, when its next step has a due date, the follow-up task."""
    values = clean_entry(data, account, timezone_name)
    task_values = None
    if data.get("next_step_due"):
        try:
            task_values = clean_task({"objective": data.get("next_step", ""),
                                      "due_date": data.get("next_step_due"),
                                      "owner": data.get("next_step_owner") or str(author.id)})
        except Invalid as invalid:
            renamed = {"objective": "next_step", "due_date": "next_step_due",
                       "owner": "next_step_owner"}
            raise Invalid({renamed.get(k, k): v for k, v in invalid.errors.items()})
    with db.atomic():
        entry = record_entry(account, author, values)
        if task_values:
            contacts = values.get("contacts") or []
            task_values["contact"] = contacts[0] if len(contacts) == 1 else None
            create_task(account, task_values, author, timeline_entry=entry)
    return entry
