"""Customer accounts: the dossier, the owner and team, tags and email domains."""
import datetime
import unicodedata

from flask_babel import lazy_gettext as _l
from peewee import (SQL, CharField, DateTimeField, ForeignKeyField, IntegerField, NodeList,
                    TextField)

from .db import BaseModel, VersionedModel, db, is_postgres, utcnow
from .users import LANGUAGES, User
from .validation import Checker, Invalid, search_term

STAGES = {
    "suspect": _l("Suspect"),
    "prospect": _l("Prospect"),
    "customer": _l("Customer"),
    "nurture": _l("Nurture"),
    "lost": _l("Lost"),
}
SIZE_CLASSES = {"S": "S", "M": "M", "L": "L", "XL": "XL", "XXL": "XXL"}
CURRENCIES = ("EUR", "GBP", "CHF", "USD", "SEK", "DKK", "NOK", "PLN", "CZK")
SORTS = {
    "name": ("search_name", "asc"),
    "-name": ("search_name", "desc"),
    "last_contact": ("last_contact_at", "asc"),
    "-last_contact": ("last_contact_at", "desc"),
    "created": ("created_at", "asc"),
    "-created": ("created_at", "desc"),
}
COUNT_CAP = 1000  # a search counts its matches up to here: "more than 1,000 accounts"
DOSSIER_FIELDS = ("vision", "purchasing_policy", "competitors", "credit_notes")
FORM_FIELDS = ("name", "stage", "size_class", "owner", "stand_in", "industry", "street",
               "postal_code", "city", "country", "website", "email_domains", "vat_number",
               "language", "currency", "payment_terms", "delivery_terms", "tags") + DOSSIER_FIELDS
# Free-mail domains never identify an account: a gmail sender could be anyone.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "yahoo.co.uk", "icloud.com", "me.com", "aol.com", "gmx.de", "gmx.net",
    "web.de", "proton.me", "protonmail.com", "hotmail.it", "libero.it", "virgilio.it",
    "ziggo.nl", "kpnmail.nl", "planet.nl", "yahoo.gr", "otenet.gr", "freemail.gr",
})


def search_key(text):
    """Lower case without accents, so 'Ελληνική' matches 'ελληνικη' and 'Café' 'cafe'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def contains(field, query):
    """`field` (already a search_key) contains the query, wildcards in it taken literally."""
    escaped = (search_key(search_term(query))
               .replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return NodeList((field, SQL("LIKE"), f"%{escaped}%", SQL("ESCAPE '\\'")))


def starts_with(field, prefix):
    """`field` (stored in lower case) starts with `prefix`.

    SQLite's LIKE ignores case and so cannot use an ordinary index; the same prefix as a
    range can, which turns a scan of every address into a lookup. (Only on SQLite: under
    PostgreSQL's linguistic collations a range is not the same as a prefix.)
    """
    condition = field.startswith(prefix)
    if not is_postgres():
        condition = (field >= prefix) & (field < prefix + "\U0010ffff") & condition
    return condition


def email_domain_term(q):
    """The start of an email domain a search asks for ("@devries", "devries.nl"), or "".

    Not for "jan@dev" (an address, found by its own prefix), nor under three characters."""
    term = q.strip().lower()
    if term.startswith("@"):
        term = term[1:]
    elif "@" in term or "." not in term:
        return ""
    return term if len(term) >= 3 and "@" not in term and not any(c.isspace() for c in term) \
        else ""


class Account(VersionedModel):
    name = CharField()
    search_name = CharField(index=True)
    stage = CharField(default="prospect", index=True)
    size_class = CharField(default="M")
    owner = ForeignKeyField(User, backref="accounts", on_delete="RESTRICT")
    stand_in = ForeignKeyField(User, null=True, backref="stand_in_for", on_delete="SET NULL")
    industry = CharField(default="")
    street = CharField(default="")
    postal_code = CharField(default="")
    city = CharField(default="")
    country = CharField(default="")
    website = CharField(default="")
    vat_number = CharField(default="")
    language = CharField(default="en")
    currency = CharField(default="EUR")
    payment_terms = CharField(default="")
    delivery_terms = CharField(default="")
    vision = TextField(default="")
    purchasing_policy = TextField(default="")
    competitors = TextField(default="")
    credit_notes = TextField(default="")
    # Derived from the timeline (see timeline.refresh_last_contact); kept here so
    # lists, sorting and "going quiet" need no aggregate over a million entries.
    last_contact_at = DateTimeField(null=True, index=True)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)

    class Meta:
        indexes = (
            (("owner", "search_name"), False),
            (("owner", "last_contact_at"), False),
            (("stage", "search_name"), False),
        )

    def __str__(self):
        return self.name

    @property
    def stage_label(self):
        return STAGES.get(self.stage, self.stage)

    @property
    def email_domains(self):
        return [d.domain for d in self.domains.order_by(AccountDomain.domain)]

    @property
    def tag_names(self):
        return [t.name for t in (Tag.select().join(AccountTag)
                                 .where(AccountTag.account == self).order_by(Tag.name))]

    def can_edit(self, user):
        """The owner, the stand-in, the account team, managers and admins."""
        if user.leads_team or user.id in (self.owner_id, self.stand_in_id):
            return True
        return self.team.where(AccountTeamMember.user == user).exists()

    def team_members(self):
        return (AccountTeamMember.select(AccountTeamMember, User)
                .join(User)
                .where(AccountTeamMember.account == self)
                .order_by(User.name))

    def can_delete(self, user):
        return user.leads_team

    @classmethod
    def matching(cls, q="", owner=None, stage=None, size_class=None, tag=None):
        """Accounts matching the list's search and filters: no joins, not ordered or paged.

        The filters are read as typed into a URL: `owner` an id, the others search terms."""
        q, stage, size_class, tag = (search_term(v) for v in (q, stage, size_class, tag))
        query = cls.select()
        if q:
            query = query.where(contains(cls.search_name, q))
        if owner is not None:
            query = query.where(cls.owner == owner)
        if stage:
            query = query.where(cls.stage == stage)
        if size_class:
            query = query.where(cls.size_class == size_class)
        if tag:
            query = query.where(cls.id.in_(
                AccountTag.select(AccountTag.account).join(Tag).where(Tag.name == tag)))
        return query

    @classmethod
    def with_owner(cls, query=None):
        """`query` (default: every account) with the owner loaded in the same query."""
        Owner = User.alias()
        query = cls.select() if query is None else query
        return query.select_extend(Owner).join(Owner, on=(cls.owner == Owner.id))

    @classmethod
    def list_page(cls, filters, sort="name", page=1, size=25):
        """One page of the list, owners loaded, and how many match (None: more than COUNT_CAP).

        The page's ids come from the index alone and only those rows are then read with their
        owner (a "deferred join"), so page 4,000 costs about what page 1 does. A substring
        search cannot use an index, so its count stops at COUNT_CAP instead of reading on.
        """
        matching = cls.matching(**filters)
        column, direction = SORTS.get(sort, SORTS["name"])
        field = getattr(cls, column)
        order = field.asc(nulls="first") if direction == "asc" else field.desc(nulls="last")
        in_order = matching.select(cls.id).order_by(order, cls.id)
        if filters.get("q") and page * size <= COUNT_CAP:
            # A search reads every name anyway: one pass gives the first COUNT_CAP + 1 ids
            # in order, the page out of them and the count, instead of a second scan to count.
            first = [id_ for (id_,) in in_order.limit(COUNT_CAP + 1).tuples()]
            ids = first[(page - 1) * size:page * size]
            total = None if len(first) > COUNT_CAP else len(first)
        else:
            ids = [row.id for row in in_order.paginate(page, size)]
            if filters.get("q"):
                found = matching.select(cls.id).limit(COUNT_CAP + 1).count()
                total = None if found > COUNT_CAP else found
            else:
                total = matching.count()
        rows = {a.id: a for a in cls.with_owner().where(cls.id.in_(ids or [0]))}
        return [rows[i] for i in ids], total

    @classmethod
    def search(cls, q):
        """The header's search: by name, or by email domain ("devries.nl", "@devries")."""
        condition = contains(cls.search_name, q)
        domain = email_domain_term(search_term(q))
        if domain:
            condition |= cls.id.in_(AccountDomain.select(AccountDomain.account)
                                    .where(starts_with(AccountDomain.domain, domain)))
        return (cls.select()
                .where(condition)
                .order_by(cls.search_name))


class AccountDomain(BaseModel):
    """An email domain of the account; inbound mail from it is filed there."""
    account = ForeignKeyField(Account, backref="domains", on_delete="CASCADE")
    domain = CharField(index=True)

    class Meta:
        indexes = ((("account", "domain"), True),)


class Tag(BaseModel):
    name = CharField(unique=True)


class AccountTag(BaseModel):
    account = ForeignKeyField(Account, backref="account_tags", on_delete="CASCADE")
    tag = ForeignKeyField(Tag, backref="account_tags", on_delete="CASCADE")

    class Meta:
        indexes = ((("account", "tag"), True), (("tag", "account"), False))


class AccountTeamMember(BaseModel):
    """A colleague working on the account, with their part in it ("technical sales")."""
    account = ForeignKeyField(Account, backref="team", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="team_memberships", on_delete="CASCADE")
    role = CharField(default="")

    class Meta:
        indexes = ((("account", "user"), True),)


def tag_names():
    return [t.name for t in Tag.select().order_by(Tag.name)]


def _user_ids():
    return {str(u.id): u for u in User.active_users()}


def clean_account(data, account=None, partial=False):
    """Validate account input (form or API) into values for `save_account`."""
    check = Checker(data, partial=partial)
    check.text("name", required=True, max_length=160)
    check.choice("stage", STAGES)
    check.choice("size_class", SIZE_CLASSES)
    users = _user_ids()
    check.choice("owner", users)
    check.choice("stand_in", users, required=False)
    for field in ("industry", "street", "city", "country", "payment_terms", "delivery_terms"):
        check.text(field, max_length=160)
    check.text("postal_code", max_length=20)
    check.text("vat_number", max_length=30)
    check.url("website")
    check.domain_list("email_domains")
    check.choice("language", LANGUAGES)
    check.choice("currency", CURRENCIES)
    for field in DOSSIER_FIELDS:
        check.text(field, max_length=10000, multiline=True)
    check.text("tags", max_length=400)
    values = check.values
    if "tags" in values:
        values["tags"] = [t for t in dict.fromkeys(
            t.strip()[:40] for t in values["tags"].split(",")) if t]
    for key in ("owner", "stand_in"):
        if values.get(key):
            values[key] = users[values[key]]
    # Compare with the stored owner or stand-in too: a partial update may send only one.
    owner = values.get("owner", account.owner if account is not None else None)
    stand_in = values.get("stand_in", account.stand_in if account is not None else None)
    if owner is not None and stand_in is not None and owner.id == stand_in.id:
        check.fail("stand_in", _l("The stand-in must be someone other than the owner."))
    free = [d for d in values.get("email_domains", []) if d in FREE_MAIL_DOMAINS]
    if free:
        check.fail("email_domains", _l(
            "%(d)s is a free-mail domain and cannot identify an account.", d=free[0]))
    elif values.get("email_domains"):
        taken = (AccountDomain.select(AccountDomain.domain, Account.name)
                 .join(Account)
                 .where(AccountDomain.domain.in_(values["email_domains"])))
        if account is not None:
            taken = taken.where(AccountDomain.account != account)
        clash = taken.first()
        if clash is not None:
            check.fail("email_domains", _l("%(d)s already belongs to %(a)s.",
                                           d=clash.domain, a=clash.account.name))
    return check.done()


def save_account(values, account=None, seen_version=None):
    """Create or update an account; an update refuses to overwrite a newer change."""
    with db.atomic():
        account = account or Account()
        creating = account.id is None
        for field, value in values.items():
            if field not in ("email_domains", "tags"):
                setattr(account, field, value)
        account.search_name = search_key(account.name)
        if creating:
            account.save()
        else:
            account.save_checked(account.version if seen_version is None else seen_version)
        if "email_domains" in values:
            AccountDomain.delete().where(AccountDomain.account == account).execute()
            for domain in values["email_domains"]:
                AccountDomain.create(account=account, domain=domain)
        if "tags" in values:
            set_tags(account, values["tags"])
    return account


def set_tags(account, names):
    AccountTag.delete().where(AccountTag.account == account).execute()
    for name in names:
        tag, _ = Tag.get_or_create(name=name)
        AccountTag.create(account=account, tag=tag)


def set_team_member(account, user, role):
    check = Checker({"role": role or ""})
    check.text("role", max_length=60)
    if user.id == account.owner_id:
        check.errors["user"] = _l("The owner is already responsible for this account.")
    role = check.done()["role"]
    member, created = AccountTeamMember.get_or_create(account=account, user=user,
                                                      defaults={"role": role})
    if not created:
        member.role = role
        member.save()
    return member


def remove_team_member(account, user_id):
    (AccountTeamMember.delete()
     .where((AccountTeamMember.account == account) & (AccountTeamMember.user == user_id))
     .execute())


def accounts_going_quiet(owner, days=60, now=None):
    """The owner's active accounts without a contact moment for `days` days."""
    cutoff = (now or utcnow()) - datetime.timedelta(days=days)
    return (Account.select()
            .where((Account.owner == owner)
                   & (Account.stage.in_(("prospect", "customer")))
                   & ((Account.last_contact_at < cutoff) | Account.last_contact_at.is_null()))
            .order_by(Account.last_contact_at.asc(nulls="first"), Account.id))


def tags_by_account(accounts):
    """{account_id: [tag names]} for a page of accounts, in one query."""
    ids = [a.id for a in accounts]
    result = {i: [] for i in ids}
    if ids:
        rows = (AccountTag.select(AccountTag.account, Tag.name)
                .join(Tag)
                .where(AccountTag.account.in_(ids))
                .order_by(Tag.name)
                .tuples())
        for account_id, name in rows:
            result[account_id].append(name)
    return result

