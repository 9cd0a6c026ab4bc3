"""People at an account and their part in the decision-making unit (DMU)."""
import datetime

from flask_babel import lazy_gettext as _l
from peewee import (JOIN, BooleanField, CharField, DateField, DateTimeField, ForeignKeyField,
                    IntegerField, TextField)

from .accounts import (Account, AccountDomain, contains, email_domain_term, search_key,
                       starts_with)
from .db import BaseModel, VersionedModel, db, utcnow
from .users import LANGUAGES, User
from .validation import Checker, search_term

DMU_ROLES = {
    "decision_maker": _l("Decision maker"),
    "influencer": _l("Influencer"),
    "buyer": _l("Buyer"),
    "user": _l("User"),
    "gatekeeper": _l("Gatekeeper"),
    "champion": _l("Champion"),
}
CONSENT_SOURCES = {
    "": _l("Not recorded"),
    "form": _l("Web or paper form"),
    "email": _l("By email"),
    "verbal": _l("In a conversation"),
    "contract": _l("In the contract"),
}
SORTS = {
    "name": ("search_name", "asc"),
    "-name": ("search_name", "desc"),
    "last_contact": ("last_contact_at", "asc"),
    "-last_contact": ("last_contact_at", "desc"),
}
NO_ROLE = "none"  # the list's filter value for contacts without a DMU role
TIMELINE_PAGE_SIZE = 20
FORM_FIELDS = ("first_name", "last_name", "position", "dmu_role", "emails", "phone", "mobile",
               "language", "birthday", "personal_notes", "newsletter_consent", "consent_source")


class Contact(VersionedModel):
    account = ForeignKeyField(Account, backref="contacts", on_delete="CASCADE")
    first_name = CharField(default="")
    last_name = CharField()
    search_name = CharField(index=True)
    position = CharField(default="")
    dmu_role = CharField(null=True)
    phone = CharField(default="")
    mobile = CharField(default="")
    phone_digits = CharField(default="", index=True)  # for search: "+31 20-123" → "3120123"
    language = CharField(null=True)  # None: the account's language
    birthday = DateField(null=True)
    # Month and day as 1231, so "birthdays this week" is an indexed range on any database.
    birthday_day = IntegerField(null=True, index=True)
    personal_notes = TextField(default="")
    newsletter_consent = BooleanField(default=False)
    consent_at = DateTimeField(null=True)
    consent_source = CharField(default="")
    last_contact_at = DateTimeField(null=True, index=True)  # derived from the timeline
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("account", "last_name"), False),
                   (("account", "birthday_day"), False))

    def __str__(self):
        return self.name

    @property
    def name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def dmu_role_label(self):
        return DMU_ROLES.get(self.dmu_role, "")

    @property
    def emails(self):
        return [e.email for e in self.email_rows.order_by(ContactEmail.position)]

    @property
    def document_language(self):
        return self.language or self.account.language

    @classmethod
    def of_account(cls, account):
        return (cls.select()
                .where(cls.account == account)
                .order_by(cls.last_name, cls.first_name, cls.id))

    def can_edit(self, user):
        """Whoever may change the account may change its people."""
        return self.account.can_edit(user)

    @classmethod
    def matching(cls, q):
        """The condition "name, email address or phone number matches `q`"."""
        q = search_term(q)
        digits = _digits(q)
        by_email = (ContactEmail.select(ContactEmail.contact)
                    .where(starts_with(ContactEmail.email, q.strip().lower())))
        condition = contains(cls.search_name, q) | cls.id.in_(by_email)
        # "devries.nl" or "@devries": the people of the accounts with that email domain.
        domain = email_domain_term(q)
        if domain:
            condition |= cls.account.in_(AccountDomain.select(AccountDomain.account)
                                         .where(starts_with(AccountDomain.domain, domain)))
        # Phone numbers only for what looks like one: "info2024@" is no phone number. A
        # number typed the national way (020-555 1234) is stored international (31205551234):
        # without its leading zeros it is found inside it.
        if len(digits) >= 4 and not any(c.isalpha() for c in q):
            condition |= cls.phone_digits.contains(digits)
            national = digits.lstrip("0")
            if national != digits and len(national) >= 6:
                condition |= cls.phone_digits.contains(national)
        return condition

    @classmethod
    def search(cls, q):
        """Contacts by name, email address or phone number, account loaded."""
        return (cls.select(cls, Account)
                .join(Account)
                .where(cls.matching(q))
                .order_by(cls.search_name, cls.id))

    @classmethod
    def listing(cls, q="", dmu_role=None, owner=None, sort="name"):
        """Contacts matching the list's search and filters, account loaded, not yet paged.

        `dmu_role` is a role or NO_ROLE; `owner` the id of the accounts' owner.
        """
        query = cls._filtered(cls.select(cls, Account).join(Account), q, dmu_role, owner)
        column, direction = SORTS.get(sort, SORTS["name"])
        field = getattr(cls, column)
        order = field.asc(nulls="first") if direction == "asc" else field.desc(nulls="last")
        return query.order_by(order, cls.id)

    @classmethod
    def count_listing(cls, q="", dmu_role=None, owner=None):
        """How many contacts the list holds: the same filters, without joining the accounts
        (at 300,000 contacts the join alone costs more than the whole page)."""
        return cls._filtered(cls.select(cls.id), q, dmu_role, owner).count()

    @classmethod
    def _filtered(cls, query, q, dmu_role, owner):
        q = search_term(q)
        if q:
            query = query.where(cls.matching(q))
        if dmu_role == NO_ROLE:
            query = query.where(cls.dmu_role.is_null())
        elif dmu_role:
            query = query.where(cls.dmu_role == dmu_role)
        if owner is not None:
            query = query.where(cls.account.in_(
                Account.select(Account.id).where(Account.owner == owner)))
        return query

    def open_tasks(self):
        """This contact's open tasks, account, contact and owner loaded, soonest first."""
        from .tasks import Task  # tasks imports this module
        return (Task.with_related()
                .where((Task.contact == self) & (Task.done == False))  # noqa: E712
                .order_by(Task.due_date, Task.id))

    def timeline_entries(self, before=None):
        """The contact moments this contact took part in, newest first, authors loaded.

        `before` is the cursor of the last entry shown, as on the account's timeline.
        """
        from .timeline import TimelineEntry, TimelineParticipant, parse_cursor  # imports us
        query = (TimelineEntry.select(TimelineEntry, User)
                 .join(TimelineParticipant)
                 .switch(TimelineEntry)
                 .join(User, join_type=JOIN.LEFT_OUTER, on=(TimelineEntry.author == User.id))
                 .where(TimelineParticipant.contact == self))
        position = parse_cursor(before)
        if position:
            at, entry_id = position
            query = query.where((TimelineEntry.occurred_at < at)
                                | ((TimelineEntry.occurred_at == at) & (TimelineEntry.id < entry_id)))
        return query.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())

    def timeline_page(self, before=None, size=TIMELINE_PAGE_SIZE):
        """One page of this contact's entries with participants, and the next page's cursor."""
        from .timeline import attach_participants
        entries = list(self.timeline_entries(before).limit(size + 1))
        more = len(entries) > size
        entries = entries[:size]
        attach_participants(entries)
        return entries, (entries[-1].cursor if more else None)


class ContactEmail(BaseModel):
    """One of a contact's addresses; inbound mail from it is filed on the account."""
    contact = ForeignKeyField(Contact, backref="email_rows", on_delete="CASCADE")
    email = CharField(index=True)
    position = IntegerField(default=0)
    bouncing = BooleanField(default=False)

    class Meta:
        indexes = ((("contact", "email"), True),)


def emails_by_contact(contacts, bouncing=None):
    """{contact_id: [addresses]} for a page of contacts, in one query. Given a set as
    `bouncing`, the same query adds to it the addresses a mail server reported as not
    existing (a permanent delivery failure, mail/inbound.py), to be shown as such."""
    ids = [c.id for c in contacts]
    result = {i: [] for i in ids}
    if ids:
        rows = (ContactEmail.select(ContactEmail.contact, ContactEmail.email,
                                    ContactEmail.bouncing)
                .where(ContactEmail.contact.in_(ids))
                .order_by(ContactEmail.position)
                .tuples())
        for contact_id, email, bounces in rows:
            result[contact_id].append(email)
            if bounces and bouncing is not None:
                bouncing.add(email)
    return result


def dmu_of(account):
    """The account's contacts grouped by DMU role, in DMU order; unassigned last."""
    groups = {role: [] for role in DMU_ROLES}
    groups[None] = []
    contacts = list(Contact.of_account(account))
    bouncing = set()
    emails = emails_by_contact(contacts, bouncing)
    for contact in contacts:
        contact.email_list = emails[contact.id]
        contact.bouncing = bouncing
        groups.setdefault(contact.dmu_role, []).append(contact)
    return [(role, members) for role, members in groups.items() if members]


def clean_contact(data, partial=False):
    check = Checker(data, partial=partial)
    check.text("first_name", max_length=80)
    check.text("last_name", required=True, max_length=80)
    check.text("position", max_length=120)
    check.choice("dmu_role", DMU_ROLES, required=False)
    check.email_list("emails")
    check.phone("phone")
    check.phone("mobile")
    check.choice("language", LANGUAGES, required=False)
    check.date("birthday")
    check.text("personal_notes", max_length=5000, multiline=True)
    check.boolean("newsletter_consent")
    check.choice("consent_source", CONSENT_SOURCES, required=False)
    values = check.values
    if values.get("birthday") and values["birthday"] > datetime.date.today():
        check.fail("birthday", _l("A birthday cannot lie in the future."))
    return check.done()


def day_of_year_key(day):
    return day.month * 100 + day.day if day else None


def birthdays_between(owner, first, last, limit=20):
    """Contacts at `owner`'s accounts whose birthday falls from `first` to `last` (dates),
    as (contact, this year's date) pairs in date order, at most `limit`; the range may
    cross New Year."""
    start, end = day_of_year_key(first), day_of_year_key(last)
    wraps = start > end
    in_range = (((Contact.birthday_day >= start) | (Contact.birthday_day <= end)) if wraps
                else Contact.birthday_day.between(start, end))
    # Across New Year, December's days come first, then January's.
    order = ((Contact.birthday_day < start), Contact.birthday_day) if wraps else \
        (Contact.birthday_day,)
    contacts = (Contact.select(Contact.id, Contact.first_name, Contact.last_name,
                               Contact.birthday, Account.id, Account.name)
                .join(Account)
                .where((Account.owner == owner) & in_range)
                .order_by(*order, Contact.last_name, Contact.id)
                .limit(limit))
    found = []
    for contact in contacts:
        for year in (first.year, last.year):
            try:
                day = contact.birthday.replace(year=year)
            except ValueError:  # 29 February in a common year: celebrate on the 28th
                day = datetime.date(year, 2, 28)
            if first <= day <= last:
                found.append((contact, day))
                break
    return found


def save_contact(values, contact, seen_version=None):
    """Create or update a contact (with `contact.account` set); consent is time-stamped."""
    with db.atomic():
        creating = contact.id is None
        was_consenting = bool(contact.newsletter_consent) and not creating
        for field, value in values.items():
            if field != "emails":
                setattr(contact, field, value if value is not None or field in (
                    "dmu_role", "language", "birthday") else "")
        if "newsletter_consent" in values:
            if values["newsletter_consent"] and not was_consenting:
                contact.consent_at = utcnow()
            elif not values["newsletter_consent"]:
                contact.consent_at = None
        contact.search_name = search_key(contact.name)
        contact.birthday_day = day_of_year_key(contact.birthday)
        contact.phone_digits = " ".join(_digits(n) for n in (contact.phone, contact.mobile))
        if creating:
            contact.save()
        else:
            contact.save_checked(contact.version if seen_version is None else seen_version)
        if "emails" in values:
            ContactEmail.delete().where(ContactEmail.contact == contact).execute()
            for position, email in enumerate(values["emails"]):
                ContactEmail.create(contact=contact, email=email, position=position)
    return contact


def delete_contact(contact):
    """Delete a contact with their addresses and timeline participation; tasks keep going
    without them, the timeline entries stay on the account."""
    with db.atomic():
        contact.delete_instance(recursive=True)


def contact_form(contact):
    """A stored contact as form values (strings, like a submitted form)."""
    values = {field: getattr(contact, field) or "" for field in (
        "first_name", "last_name", "position", "dmu_role", "phone", "mobile", "language",
        "personal_notes", "consent_source")}
    values.update(emails="\n".join(emails_by_contact([contact])[contact.id]),
                  birthday=contact.birthday.isoformat() if contact.birthday else "",
                  newsletter_consent="1" if contact.newsletter_consent else "",
                  version=str(contact.version))
    return values


def _digits(text):
    return "".join(c for c in text or "" if c.isdigit())
