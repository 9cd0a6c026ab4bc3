"""Generate a benchmark database at real size, through the real migrations.

    .venv/bin/python bench/generate.py --accounts 100000 --contacts 300000 \
        --entries 1000000 --tasks 100000 --out bench/data/large.db

The schema comes from the application's own migrations; the rows are bulk-inserted
(the statement of `insert_many`, executed in batches inside `db.atomic()`), seeded so every run gives the same data.
Derived columns are filled the way the application derives them: `search_name` with
`models.accounts.search_key`, `last_contact_at` of accounts and contacts as
`models.timeline.refresh_last_contact` would set it (computed in bulk, then checked in SQL).

Next to the database a small JSON file records the sizes, the generation time and the
bench user's credentials (the API token is only shown once, so it is kept there).
"""
import argparse
import bisect
import datetime
import itertools
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_EMAIL = "bench@example.com"
BENCH_PASSWORD = "bench-password-1"
BATCH = 5000

# Names in the languages the customers speak, accents and Greek included, so that the
# search (accent- and case-insensitive through search_key) meets what it meets in real life.
SURNAMES = {
    "en": ["Harrison", "Whitfield", "Ashworth", "Pemberton", "Blackwood", "Thornton", "Kingsley",
           "Hargreaves", "Cartwright", "Fairbanks", "Lockwood", "Summers", "Bradshaw", "Holloway",
           "Waverley", "Redgrave", "Caldwell", "Merriweather", "Oakley", "Stanhope"],
    "nl": ["Van den Berg", "De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer",
           "De Boer", "Mulder", "Bos", "Vos", "Peters", "Hendriks", "Van Dijk", "Dekker",
           "Brouwer", "Van Leeuwen", "Kuipers", "Verhoeven", "Schouten"],
    "it": ["Rossi", "Bianchi", "Esposito", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
           "Galli", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi",
           "Moretti", "Barbieri", "Fontana", "Santoro"],
    "el": ["Παπαδόπουλος", "Βασιλείου", "Γεωργίου", "Οικονόμου", "Καραγιάννης", "Αντωνίου",
           "Νικολάου", "Δημητρίου", "Ιωάννου", "Μακρής", "Αθανασίου", "Κωνσταντίνου",
           "Χριστοδούλου", "Παππάς", "Σταματόπουλος", "Λαμπράκης", "Ζαχαρίου", "Θεοδωρίδης",
           "Κυριακίδης", "Ευαγγέλου"],
    "de": ["Müller", "Schäfer", "Weiß", "Köhler", "Böhm", "Schröder", "Krüger", "Hoffmann",
           "Groß", "Jäger", "Lößner", "Bäumer", "Fröhlich", "Günther", "Kühn", "Möller",
           "Schütz", "Vogel", "Wöhler", "Zöller"],
    "fr": ["Lefèvre", "Dupré", "Bérénger", "Chevalier", "Gauthier", "Mercier", "Dubois",
           "Lemaître", "Faure", "Rousseau", "Benoît", "Girard", "Hébert", "Clément", "Noël",
           "Mathieu", "Ferré", "Aubért", "Delacroix", "Thérieur"],
}
FIRST_NAMES = {
    "en": ["Oliver", "Emma", "James", "Charlotte", "Harry", "Sophie", "George", "Amelia"],
    "nl": ["Sanne", "Daan", "Femke", "Joris", "Lotte", "Bram", "Anouk", "Thijs"],
    "it": ["Giulia", "Niccolò", "Francesca", "Lorenzo", "Chiara", "Matteo", "Federica", "Luca"],
    "el": ["Γιώργος", "Μαρία", "Κώστας", "Ελένη", "Δημήτρης", "Κατερίνα", "Νίκος", "Σοφία"],
    "de": ["Jürgen", "Anja", "Sören", "Bärbel", "Jörg", "Käthe", "Lukas", "Hannah"],
    "fr": ["Zoé", "Hélène", "Jérôme", "Loïc", "Amélie", "Benoît", "Céline", "Émile"],
}
TRADES = {
    "en": ["Logistics", "Engineering", "Packaging", "Foods", "Print & Media", "Hydraulics",
           "Timber", "Fasteners", "Catering Supplies", "Electrical"],
    "nl": ["Installatietechniek", "Bakkerij", "Transport", "Metaalbewerking", "Kozijnen",
           "Drukkerij", "Groothandel", "Tuincentrum", "Bouwmaterialen", "Koeltechniek"],
    "it": ["Caffè", "Officine Meccaniche", "Ceramiche", "Pastificio", "Tipografia",
           "Arredamenti", "Cantina", "Lavorazioni Metalliche", "Forniture Alberghiere", "Tessuti"],
    "el": ["Τεχνική", "Εμπορική", "Κατασκευαστική", "Ελαιουργία", "Μεταφορική", "Ψυκτική",
           "Εκτυπωτική", "Αρτοποιία", "Ηλεκτρολογική", "Χημική"],
    "de": ["Bäckerei", "Maschinenbau", "Druckerei", "Spedition", "Gerätebau", "Stahlhandel",
           "Brauerei", "Möbelwerkstätten", "Kältetechnik", "Präzisionsteile"],
    "fr": ["Boulangerie", "Électricité", "Mécanique Générale", "Imprimerie", "Transports",
           "Menuiserie", "Fromagerie", "Quincaillerie", "Chaudronnerie", "Pâtisserie"],
}
FORMS = {"en": ["Ltd", "plc", "& Sons", ""], "nl": ["B.V.", "V.O.F.", ""],
         "it": ["S.r.l.", "S.p.A.", "& Figli", ""], "el": ["Α.Ε.", "Ε.Π.Ε.", "Ο.Ε.", ""],
         "de": ["GmbH", "AG", "KG", ""], "fr": ["SARL", "S.A.", "& Fils", ""]}
CITIES = {"en": ["Leeds", "Bristol", "Dublin", "Cork"], "nl": ["Utrecht", "Zwolle", "Gent", "Breda"],
          "it": ["Bologna", "Torino", "Bari", "Verona"], "el": ["Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Λάρισα"],
          "de": ["München", "Köln", "Düsseldorf", "Nürnberg"], "fr": ["Lyon", "Nantes", "Besançon", "Orléans"]}
COUNTRIES = {"en": "GB", "nl": "NL", "it": "IT", "el": "GR", "de": "DE", "fr": "FR"}
APP_LANGUAGE = {"en": "en", "nl": "nl", "it": "it", "el": "el", "de": "en", "fr": "en"}
LANGS = list(SURNAMES)
STAGE_WEIGHTS = (("customer", 45), ("prospect", 25), ("suspect", 15), ("nurture", 10), ("lost", 5))
SIZES = ("S", "M", "L", "XL", "XXL")
TAGS = ["key account", "distributor", "export", "public sector", "franchise", "seasonal",
        "eco", "late payer", "trade fair 2025", "newsletter", "tender", "partner"]
DMU = ["decision_maker", "influencer", "buyer", "user", "gatekeeper", "champion", None, None]
POSITIONS = ["CEO", "Purchasing manager", "Head of operations", "Office manager", "Buyer",
             "Technical director", "Owner", "CFO", "Planner", ""]
KIND_WEIGHTS = (("email_out", 30), ("email_in", 25), ("call", 20), ("note", 12),
                ("meeting", 8), ("visit", 5))
CONTACT_KINDS = {"call", "meeting", "visit", "email_in", "email_out"}
SUBJECTS = ["Quote follow-up", "Delivery schedule", "Price increase 2025", "Sample request",
            "Complaint: damaged pallet", "Annual review", "Offerte opvolging", "Levering week 12",
            "Preventivo aggiornato", "Consegna ritardata", "Προσφορά τιμών", "Παράδοση παραγγελίας",
            "Rückfrage Lieferzeit", "Relance devis", "New product line", "Payment reminder"]
SENTENCES = [
    "Discussed the volumes for next quarter; they expect roughly the same as last year.",
    "They asked for a revised quote with a longer payment term.",
    "Buyer mentioned a competitor offering five percent less on the standard range.",
    "Agreed to send samples of the new range before the end of the month.",
    "The delivery of last week arrived two days late; apologised and explained the cause.",
    "Ze willen graag een offerte voor de nieuwe serie, levering in het voorjaar.",
    "Hanno chiesto uno sconto per ordini superiori a cento pezzi.",
    "Συζητήσαμε τους όρους πληρωμής και την ημερομηνία παράδοσης.",
    "Sie möchten die Lieferung auf zwei Termine aufteilen.",
    "Ils souhaitent une visite de notre atelier en septembre.",
    "Credit limit is fine; finance confirmed the last invoices were paid on time.",
    "New purchasing manager starts next month; introduce ourselves then.",
]
AGREEMENTS = ["Send revised quote by Friday.", "Visit in two weeks with the technical sales colleague.",
              "They confirm the order after their board meeting.", "Call back after the trade fair."]
TASK_OBJECTIVES = ["Call about the revised quote", "Send samples of the new range",
                   "Check delivery date with logistics", "Prepare the annual review",
                   "Follow up on the complaint", "Introduce ourselves to the new buyer",
                   "Confirm the payment terms", "Plan a visit with the technical colleague"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=40, help="account managers owning the accounts")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", required=True, help="path of the SQLite database to (re)create")
    return parser.parse_args(argv)


def generate(accounts, contacts, entries, tasks, out, users=40, seed=2026, log=print):
    """Create the database at `out`; returns the metadata also written to `<out>.json`."""
    from app import create_app
    from models import db
    from models.migrations import migrate_up

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in (out, Path(f"{out}-wal"), Path(f"{out}-shm"), out.with_suffix(".json")):
        path.unlink(missing_ok=True)
    started = time.perf_counter()
    create_app({"DATABASE_URL": f"sqlite:///{out}", "SECRET_KEY": "bench"})
    with db.connection_context():
        migrate_up()
        builder = Builder(seed, accounts, contacts, entries, tasks, users, log)
        meta = builder.build()
    meta.update(seconds=round(time.perf_counter() - started, 1), seed=seed,
                sizes={"users": users + 1, "accounts": accounts, "contacts": contacts,
                       "entries": entries, "tasks": tasks},
                size_mb=round(out.stat().st_size / 1e6), generated_at=datetime.datetime.now()
                .isoformat(timespec="seconds"))
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    log(f"done in {meta['seconds']} s, {meta['size_mb']} MB")
    return meta


class Builder:
    """Plans the rows in memory (so derived columns are known up front), then inserts them."""

    def __init__(self, seed, accounts, contacts, entries, tasks, users, log):
        self.seed, self.log = seed, log
        self.n_accounts, self.n_contacts = accounts, contacts
        self.n_entries, self.n_tasks, self.n_users = entries, tasks, users
        today = datetime.date.today()
        # Timeline and tasks are anchored on the real today, so "overdue", "this week"
        # and "going quiet" look the way they would on the day of the measurement.
        self.now = datetime.datetime.combine(today, datetime.time(6, 0))
        self.today = today

    def stream(self, part):
        """A random stream per part, so the small and the large data set share every account,
        contact and task and differ only in the timeline (and what derives from it)."""
        return random.Random(f"{self.seed}-{part}")

    def build(self):
        from models import db
        timer = Timer(self.log)
        db.execute_sql("PRAGMA journal_mode=OFF")  # one writer, a throw-away file: no journal
        db.execute_sql("PRAGMA synchronous=OFF")
        db.execute_sql("PRAGMA cache_size=-400000")
        indexes = self.drop_indexes()
        token = self.users()
        timer("users")
        self.plan_accounts_and_contacts()
        self.plan_timeline()
        timer("timeline planned")
        self.insert_accounts()
        timer("accounts")
        self.insert_contacts()
        timer("contacts")
        self.insert_timeline()
        timer("timeline")
        self.insert_tasks()
        timer("tasks")
        for sql in indexes:
            db.execute_sql(sql)
        timer("indexes")
        db.execute_sql("PRAGMA journal_mode=WAL")
        self.check_last_contact()
        timer("last_contact_at checked")
        return {"bench_user": BENCH_EMAIL, "password": BENCH_PASSWORD, "token": token,
                "steps": timer.steps}

    def drop_indexes(self):
        """Bulk loading into bare tables and indexing afterwards is several times faster.

        The indexes are re-created from the exact SQL the migrations wrote."""
        from models import db
        rows = db.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('account', 'contact', 'contact_email', 'timeline_entry', "
            "'timeline_participant', 'task', 'account_tag', 'account_domain')").fetchall()
        for name, _sql in rows:
            db.execute_sql(f'DROP INDEX "{name}"')
        return [sql for _name, sql in rows]

    # -- users -------------------------------------------------------------------------------
    def users(self):
        from models import db
        from models.users import ApiToken, User
        rng = self.stream("users")
        probe = User(email="x", name="x", role="admin", password_hash="")
        probe.set_password(BENCH_PASSWORD)
        rows = [(1, BENCH_EMAIL, "Bea Bench", "account_manager", "en")]
        for i in range(2, self.n_users + 1):
            lang = LANGS[i % len(LANGS)]
            name = f"{rng.choice(FIRST_NAMES[lang])} {rng.choice(SURNAMES[lang])}"
            rows.append((i, f"am{i}@example.com", name, "account_manager", APP_LANGUAGE[lang]))
        rows.append((self.n_users + 1, "lead@example.com", "Lena Lead", "manager", "en"))
        with db.atomic():
            User.insert_many(
                [(*r, probe.password_hash, self.now) for r in rows],
                fields=[User.id, User.email, User.name, User.role, User.language,
                        User.password_hash, User.created_at]).execute()
            self.owner_ids = list(range(1, self.n_users + 1))
            return ApiToken.issue(User.get_by_id(1), "bench")

    # -- planning ----------------------------------------------------------------------------
    def plan_accounts_and_contacts(self):
        rng = self.stream("accounts")
        self.account_lang = [rng.choice(LANGS) for _ in range(self.n_accounts)]
        # Every owner gets a share; the bench user (id 1) a double one: a busy portfolio.
        weights = [2] + [1] * (self.n_users - 1)
        self.account_owner = rng.choices(self.owner_ids, weights=weights, k=self.n_accounts)
        # How busy each account is (its rank in a Zipf-like curve, see plan_timeline), decided
        # first: the busiest accounts have the largest decision-making units.
        self.rank = list(range(self.n_accounts))
        rng.shuffle(self.rank)  # heavy accounts are not simply the first ids
        # Contacts: 1 to 5 per account in proportion, a few accounts without any; 4 to 12
        # for the thousand busiest.
        per_account = [rng.randint(4, 12) if self.rank[i] < 1000 else
                       rng.choice((0, 1, 2, 3, 3, 4, 5)) for i in range(self.n_accounts)]
        scale = self.n_contacts / max(sum(per_account), 1)
        counts = [int(c * scale) for c in per_account]
        shortfall = self.n_contacts - sum(counts)
        for i in rng.sample(range(self.n_accounts), min(abs(shortfall), self.n_accounts)):
            counts[i] += 1 if shortfall > 0 else (-1 if counts[i] else 0)
        self.contacts_of = []  # account index -> list of contact ids
        next_id = 1
        for count in counts:
            self.contacts_of.append(list(range(next_id, next_id + count)))
            next_id += count
        self.n_contacts = next_id - 1

    def plan_timeline(self):
        """Who had which contact moment when: skewed like real portfolios.

        A Zipf-like weight makes a few key accounts carry thousands of entries while most
        have a handful; time is spread over three years, ids follow time (as they would)."""
        rng = self.stream("timeline")
        cumulative = list(itertools.accumulate(1.0 / (rank + 10) for rank in self.rank))
        total = cumulative[-1]
        span = 3 * 365 * 24 * 3600
        kinds, kind_weights = zip(*KIND_WEIGHTS)
        kind_cum = list(itertools.accumulate(kind_weights))
        offsets = sorted(rng.randrange(span) for _ in range(self.n_entries))
        start = self.now - datetime.timedelta(seconds=span)
        self.entries = []  # (account index, occurred_at, kind, participant ids)
        self.account_last = {}
        self.contact_last = {}
        for offset in offsets:
            account = bisect.bisect_left(cumulative, rng.random() * total)
            account = min(account, self.n_accounts - 1)
            occurred = start + datetime.timedelta(seconds=offset - offset % 60)
            kind = kinds[bisect.bisect_left(kind_cum, rng.random() * kind_cum[-1])]
            people = ()
            candidates = self.contacts_of[account]
            if candidates and kind != "note" and rng.random() < 0.6:
                people = rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 1, 2))))
            self.entries.append((account, occurred, kind, people))
            if kind in CONTACT_KINDS:
                # Entries come in time order: the last one seen is the latest.
                self.account_last[account] = occurred
                for contact in people:
                    self.contact_last[contact] = occurred

    # -- inserting ---------------------------------------------------------------------------
    def insert_accounts(self):
        from models.accounts import Account, AccountDomain, AccountTag, AccountTeamMember, Tag
        from models.accounts import search_key
        rng = self.stream("account rows")
        stages, stage_weights = zip(*STAGE_WEIGHTS)
        created_base = self.now - datetime.timedelta(days=5 * 365)

        def rows():
            for i in range(self.n_accounts):
                lang = self.account_lang[i]
                name = self.account_name(rng, lang)
                created = created_base + datetime.timedelta(minutes=i * 20)
                yield (i + 1, name, search_key(name), rng.choices(stages, stage_weights)[0],
                       rng.choice(SIZES), self.account_owner[i], rng.choice(CITIES[lang]),
                       COUNTRIES[lang], APP_LANGUAGE[lang], "EUR", self.account_last.get(i),
                       created, created, 1)

        fields = [Account.id, Account.name, Account.search_name, Account.stage,
                  Account.size_class, Account.owner, Account.city, Account.country,
                  Account.language, Account.currency, Account.last_contact_at,
                  Account.created_at, Account.updated_at, Account.version]
        self.insert(Account, fields, rows())
        self.insert(Tag, [Tag.id, Tag.name], ((i + 1, t) for i, t in enumerate(TAGS)))
        tag_rows = ((a, t) for a in range(1, self.n_accounts + 1) if rng.random() < 0.3
                    for t in rng.sample(range(1, len(TAGS) + 1), rng.choice((1, 1, 2, 3))))
        self.insert(AccountTag, [AccountTag.account, AccountTag.tag], tag_rows)
        self.insert(AccountDomain, [AccountDomain.account, AccountDomain.domain],
                    ((a, f"customer{a}.example") for a in range(1, self.n_accounts + 1)
                     if rng.random() < 0.7))
        team = ((a, rng.choice(self.owner_ids), "technical sales")
                for a in range(1, self.n_accounts + 1) if rng.random() < 0.05)
        seen = set()
        self.insert(AccountTeamMember,
                    [AccountTeamMember.account, AccountTeamMember.user, AccountTeamMember.role],
                    (r for r in team if r[1] != self.account_owner[r[0] - 1]
                     and not (r[:2] in seen or seen.add(r[:2]))))

    @staticmethod
    def account_name(rng, lang):
        surname, trade, form = (rng.choice(SURNAMES[lang]), rng.choice(TRADES[lang]),
                                rng.choice(FORMS[lang]))
        if lang in ("en", "fr", "de") and rng.random() < 0.5:
            name = f"{surname} {trade}" if lang == "en" else f"{trade} {surname}"
        else:
            name = f"{trade} {surname}" if rng.random() < 0.5 else f"{surname} {trade}"
        if rng.random() < 0.2:
            name += f" {rng.choice(CITIES[lang])}"
        return f"{name} {form}".strip()

    def insert_contacts(self):
        from models import contacts as contacts_module
        from models.accounts import search_key
        from models.contacts import Contact, ContactEmail
        rng = self.stream("contact rows")
        base = self.now - datetime.timedelta(days=4 * 365)

        def rows():
            for account, ids in enumerate(self.contacts_of):
                lang = self.account_lang[account]
                for contact_id in ids:
                    first, last = rng.choice(FIRST_NAMES[lang]), rng.choice(SURNAMES[lang])
                    phone = f"+{rng.randrange(30, 50)} {rng.randrange(10, 99)} {rng.randrange(10**6, 10**7)}"
                    created = base + datetime.timedelta(minutes=contact_id * 7)
                    birthday = (datetime.date(1955, 1, 1) + datetime.timedelta(
                        days=rng.randrange(45 * 365)) if rng.random() < 0.4 else None)
                    row = (contact_id, account + 1, first, last, search_key(f"{first} {last}"),
                           rng.choice(POSITIONS), rng.choice(DMU), phone,
                           "".join(c for c in phone if c.isdigit()), rng.random() < 0.4,
                           self.contact_last.get(contact_id), created, created, 1, birthday)
                    if birthday_day:  # derived the way models.contacts derives it
                        row += (day_of_year_key(birthday),)
                    yield row

        fields = [Contact.id, Contact.account, Contact.first_name, Contact.last_name,
                  Contact.search_name, Contact.position, Contact.dmu_role, Contact.phone,
                  Contact.phone_digits, Contact.newsletter_consent, Contact.last_contact_at,
                  Contact.created_at, Contact.updated_at, Contact.version, Contact.birthday]
        # Birthdays this week (My day) look at a derived month-and-day column, where it exists.
        birthday_day = getattr(Contact, "birthday_day", None)
        day_of_year_key = getattr(contacts_module, "day_of_year_key", None)
        if birthday_day is not None and day_of_year_key is not None:
            fields.append(birthday_day)
        else:
            birthday_day = None
        self.insert(Contact, fields, rows())
        self.insert(ContactEmail, [ContactEmail.contact, ContactEmail.email, ContactEmail.position],
                    ((c, f"person{c}@customer{a + 1}.example", 0)
                     for a, ids in enumerate(self.contacts_of) for c in ids if c % 10))

    def insert_timeline(self):
        from models.timeline import TimelineEntry, TimelineParticipant
        rng = self.stream("timeline rows")

        def rows():
            for entry_id, (account, occurred, kind, _people) in enumerate(self.entries, 1):
                summary = " ".join(rng.sample(SENTENCES, rng.choice((1, 2, 3))))
                agreements = rng.choice(AGREEMENTS) if kind in ("meeting", "visit", "call") else ""
                owner = self.account_owner[account]
                author = owner if rng.random() < 0.8 else rng.choice(self.owner_ids)
                yield (entry_id, account + 1, kind, occurred, author, rng.choice(SUBJECTS),
                       summary, agreements, occurred, occurred)

        fields = [TimelineEntry.id, TimelineEntry.account, TimelineEntry.kind,
                  TimelineEntry.occurred_at, TimelineEntry.author, TimelineEntry.subject,
                  TimelineEntry.summary, TimelineEntry.agreements, TimelineEntry.created_at,
                  TimelineEntry.updated_at]
        self.insert(TimelineEntry, fields, rows())
        self.insert(TimelineParticipant, [TimelineParticipant.entry, TimelineParticipant.contact],
                    ((entry_id, contact) for entry_id, entry in enumerate(self.entries, 1)
                     for contact in entry[3]))

    def insert_tasks(self):
        """Spread from eighteen months ago to six months ahead; the past is mostly done."""
        from models.tasks import Task
        rng = self.stream("tasks")
        accounts_of = {}
        for index, owner in enumerate(self.account_owner):
            accounts_of.setdefault(owner, []).append(index)
        weights = [2] + [1] * (self.n_users - 1)
        owners = rng.choices(self.owner_ids, weights=weights, k=self.n_tasks)

        def rows():
            for task_id, owner in enumerate(owners, 1):
                account = rng.choice(accounts_of[owner])
                contacts = self.contacts_of[account]
                contact = rng.choice(contacts) if contacts and rng.random() < 0.7 else None
                due = self.today + datetime.timedelta(days=rng.randrange(-540, 181))
                done = due < self.today and rng.random() < 0.98
                done_at = datetime.datetime.combine(due, datetime.time(15)) if done else None
                created = min(datetime.datetime.combine(due, datetime.time(9))
                              - datetime.timedelta(days=14), self.now)
                yield (task_id, account + 1, contact, owner, due, rng.choice(TASK_OBJECTIVES),
                       done, done_at, (not done) and due < self.today, owner, created)

        fields = [Task.id, Task.account, Task.contact, Task.owner, Task.due_date, Task.objective,
                  Task.done, Task.done_at, Task.overdue, Task.created_by, Task.created_at]
        self.insert(Task, fields, rows())

    def insert(self, model, fields, rows):
        """insert_many's own statement, executed over batches of plain tuples.

        Letting peewee render a multi-row INSERT spends nine tenths of the time building SQL
        text value by value; rendering it once for one row and handing the batches to the
        driver's executemany loads the large set in a fraction of the time. The values are
        plain ints, strings, dates and datetimes, which the driver stores exactly as peewee
        would."""
        from models import db
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return
        # The columns left out get the model's defaults, as insert_many would give them.
        given = {f.name for f in fields}
        extra = [f for f in model._meta.sorted_fields
                 if f.name not in given and not f.primary_key and f.default is not None]
        defaults = tuple(f.default() if callable(f.default) else f.default for f in extra)
        sql, params = model.insert_many([first + defaults], fields=fields + extra).sql()
        assert len(params) == len(fields) + len(extra), (model, sql)
        with db.atomic():
            cursor = db.cursor()
            for batch in chunks(itertools.chain([first], rows), BATCH):
                cursor.executemany(sql, [row + defaults for row in batch])

    # -- checking ----------------------------------------------------------------------------
    def check_last_contact(self):
        """The bulk-derived dates must equal what refresh_last_contact would store."""
        from models import db
        kinds = ", ".join(f"'{k}'" for k in sorted(CONTACT_KINDS))
        wrong_accounts = db.execute_sql(f"""
            SELECT count(*) FROM account a
            WHERE a.last_contact_at IS NOT (
                SELECT max(e.occurred_at) FROM timeline_entry e
                WHERE e.account_id = a.id AND e.kind IN ({kinds}))""").fetchone()[0]
        wrong_contacts = db.execute_sql(f"""
            SELECT count(*) FROM contact c
            WHERE c.last_contact_at IS NOT (
                SELECT max(e.occurred_at) FROM timeline_participant p
                JOIN timeline_entry e ON e.id = p.entry_id
                WHERE p.contact_id = c.id AND e.kind IN ({kinds}))""").fetchone()[0]
        if wrong_accounts or wrong_contacts:
            raise SystemExit(f"last_contact_at inconsistent: {wrong_accounts} accounts, "
                             f"{wrong_contacts} contacts")


def schema_is_current(path):
    """Bring the data set at `path` up to the current migrations; False when that cannot be
    done because a migration it already has was changed since (then it must be generated anew).

    Migrations added later are applied (their tables stay empty); every column of every
    model must then exist."""
    import models
    from app import create_app
    from models import db
    from models.migrations import migrate_up
    create_app({"DATABASE_URL": f"sqlite:///{Path(path).resolve()}", "SECRET_KEY": "bench",
                "HUEY_IMMEDIATE": True})
    with db.connection_context():
        try:
            migrate_up()
        except Exception:  # a migration that no longer fits the older schema
            return False
        for model in getattr(models, "ALL_MODELS", models.MODELS):
            columns = {row[1] for row in db.execute_sql(
                f'PRAGMA table_info("{model._meta.table_name}")')}
            if not {field.column_name for field in model._meta.sorted_fields} <= columns:
                return False
    return True


def chunks(iterable, size):
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class Timer:
    def __init__(self, log):
        self.log, self.last, self.steps = log, time.perf_counter(), {}

    def __call__(self, step):
        now = time.perf_counter()
        self.steps[step] = round(now - self.last, 1)
        self.log(f"  {step}: {now - self.last:.1f} s")
        self.last = now


def main(argv=None):
    args = parse_args(argv)
    generate(args.accounts, args.contacts, args.entries, args.tasks, args.out, args.users,
             args.seed)


if __name__ == "__main__":
    main()
