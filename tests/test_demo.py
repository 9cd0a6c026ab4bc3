"""The demo company: realistic, complete enough for every page, deterministic and quick."""
import datetime


import pytest

from conftest import _empty_tables, login, text_of
from models.accounts import (FREE_MAIL_DOMAINS, Account, AccountDomain, AccountTeamMember,
                             accounts_going_quiet)
from models.contacts import Contact, ContactEmail
from models.db import utcnow
from models.emails import Email, EmailAttachment
from models.demo import DEMO_PASSWORD, load_demo
from models.tasks import Task
from models.timeline import TimelineEntry, TimelineParticipant
from models.users import User

COUNTRY_LANGUAGE = {"Netherlands": "nl", "Belgium": "nl", "Italy": "it", "Greece": "el",
                    "United Kingdom": "en", "Ireland": "en", "Switzerland": "en"}


@pytest.fixture
def demo(app):
    return load_demo()


def snapshot():
    return {
        "accounts": [(a.name, a.stage, a.size_class, a.vat_number, a.owner.email,
                      a.stand_in.email if a.stand_in else None)
                     for a in Account.select().order_by(Account.name)],
        "contacts": [(c.account.name, c.name, c.dmu_role, c.phone, c.birthday)
                     for c in Contact.select().order_by(Contact.search_name, Contact.id)],
        "entries": TimelineEntry.select().count(),
        "tasks": sorted((t.objective, t.owner.email, t.due_date, t.done) for t in Task.select()),
    }


def test_the_summary_says_what_was_loaded(demo):
    summary = demo
    written = TimelineEntry.select().where(TimelineEntry.author.is_null(False))
    assert "\n" not in summary
    assert summary.startswith(f"Demo data loaded: 7 users, {Account.select().count()} accounts, "
                              f"{Contact.select().count()} contacts, "
                              f"{written.count()} timeline entries, "
                              f"{Task.select().count()} tasks, "
                              f"{Email.select().where(Email.direction == 'in').count()} received "
                              "emails.")
    assert DEMO_PASSWORD == "accountable-demo" and DEMO_PASSWORD in summary


def test_the_team(demo, client):
    roles = {u.email: (u.role, u.name) for u in User.select()}
    assert roles["admin@example.com"][0] == "admin"
    assert roles["anna@example.com"] == ("account_manager", "Anna de Vries")
    assert roles["sofia@example.com"][0] == "inside_sales"
    assert roles["marco@example.com"][0] == "manager"
    assert "finance" in {role for role, _ in roles.values()}
    languages = {u.language for u in User.select().where(User.role == "account_manager")}
    assert {"it", "el"} <= languages
    assert len({u.password_hash for u in User.select()}) == 1  # hashed once
    response = client.post("/login", data={"email": "anna@example.com",
                                           "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_accounts_are_varied_and_complete(demo):
    accounts = list(Account.select())
    assert 35 <= len(accounts) <= 45
    names = {a.name for a in accounts}
    assert {"Bakkerij Van den Berg", "Ferramenta Rossi S.r.l.", "Ζαχαροπλαστείο Παπαδόπουλος",
            "Harbour Lane Catering Ltd"} <= names
    assert {a.stage for a in accounts} == {"suspect", "prospect", "customer", "nurture", "lost"}
    assert {a.size_class for a in accounts} == {"S", "M", "L", "XL", "XXL"}
    for account in accounts:
        assert account.city and account.industry and account.vat_number, account.name
        assert account.language == COUNTRY_LANGUAGE[account.country], account.name
        assert account.tag_names, account.name
    domains = [d.domain for d in AccountDomain.select()]
    assert len(domains) == len(set(domains)) == len(accounts)
    assert not set(domains) & FREE_MAIL_DOMAINS
    assert sum(1 for a in accounts if a.vision) >= 8
    assert sum(1 for a in accounts if a.stand_in_id) == len(accounts)
    assert AccountTeamMember.select().count() >= 10


def test_the_contacts(demo):
    for account in Account.select():
        people = list(account.contacts)
        assert 2 <= len(people) <= 5, account.name
        assert any(c.dmu_role == "decision_maker" for c in people)
    contacts = list(Contact.select())
    domain_of = {d.account_id: d.domain for d in AccountDomain.select()}
    for row in ContactEmail.select(ContactEmail, Contact).join(Contact):
        assert row.email.endswith("@" + domain_of[row.contact.account_id])
    assert all(c.position and c.phone for c in contacts)
    assert sum(1 for c in contacts if c.personal_notes) >= 10
    assert 0 < sum(1 for c in contacts if c.newsletter_consent) < len(contacts)
    today = datetime.date.today()
    this_week = {(today + datetime.timedelta(days=d)).strftime("%m-%d") for d in range(7)}
    birthdays = [c.birthday for c in contacts if c.birthday]
    assert sum(1 for b in birthdays if b.strftime("%m-%d") in this_week) >= 3
    assert any(c.name.startswith(("Γ", "Μ", "Δ", "Ε", "Κ", "Α", "Σ", "Β")) for c in contacts)


def test_the_timelines(demo):
    now = utcnow()
    entries = list(TimelineEntry.select().where(TimelineEntry.author.is_null(False)))
    assert len(entries) >= 150
    assert {e.kind for e in entries} == {"call", "meeting", "visit", "note"}
    assert min(e.occurred_at for e in entries) > now - datetime.timedelta(days=366)
    assert max(e.occurred_at for e in entries) <= now
    assert max(e.occurred_at for e in entries) > now - datetime.timedelta(days=31)
    assert all(e.subject and e.summary and e.author_id for e in entries)
    assert sum(1 for e in entries if e.agreements) > len(entries) // 2
    assert TimelineParticipant.select().count() >= len(entries) // 2
    with_timeline = Account.select().where(Account.last_contact_at.is_null(False)).count()
    assert with_timeline >= 30


def test_the_shared_mailbox_shows_every_way_mail_is_filed(demo, client):
    received = list(Email.select().where(Email.direction == "in"))
    states = {e.inbound_state for e in received}
    assert {"filed", "triage", "auto_reply", "bounce"} <= states
    assert {e.matched_by for e in received if e.inbound_state == "filed"} >= {"sender", "domain"}
    assert all(e.raw and e.message_id.endswith("@demo.accountable.invalid") for e in received)
    assert ContactEmail.select().where(ContactEmail.bouncing).count() == 1
    assert EmailAttachment.select().where(EmailAttachment.filename == "PO-4471.pdf").exists()
    kinds = {e.kind for e in TimelineEntry.select().where(TimelineEntry.author.is_null())}
    assert kinds == {"email_in", "note"}     # the bounce is a note
    login(client, User.by_email("anna@example.com"))
    inbox = text_of(client.get("/inbox/"))
    assert "Price list for a wedding in June?" in inbox and "Partnership proposal" in inbox


def test_annas_day_is_interesting(demo, client):
    anna = User.by_email("anna@example.com")
    today = datetime.date.today()
    tasks = list(Task.select().where(Task.owner == anna))
    open_tasks = [t for t in tasks if not t.done]
    assert any(t.due_date < today for t in open_tasks)
    assert any(t.due_date == today for t in open_tasks)
    assert any(t.due_date > today for t in open_tasks)
    assert any(t.done for t in tasks)
    assert all(t.overdue == (t.due_date < today) for t in open_tasks)
    assert len(list(accounts_going_quiet(anna))) >= 2
    # Nikos is away and Anna stands in for some of his accounts: his tasks reach her.
    assert User.by_email("nikos@example.com").away
    assert any(t.owner.email == "nikos@example.com"
               for t in Task.due_for(anna, today + datetime.timedelta(days=7)))
    login(client, anna)
    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Overdue" in text and "Today" in text and "Accounts going quiet" in text


def test_the_demo_pages_render(demo, client):
    anna = User.by_email("anna@example.com")
    login(client, anna)
    account = Account.get(Account.name == "Ζαχαροπλαστείο Παπαδόπουλος")
    for url in ["/", "/accounts/", f"/accounts/{account.id}", "/tasks/", "/profile"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Ζαχαροπλαστείο Παπαδόπουλος" in text_of(client.get(f"/accounts/{account.id}"))


def test_loading_again_changes_nothing(demo):
    before = snapshot()
    assert load_demo(only_if_empty=True) == \
        "Demo data not loaded: the database already has accounts."
    assert load_demo() == "Demo data is already loaded; nothing changed."
    assert snapshot() == before


def test_the_demo_is_the_same_every_time(demo):
    first = snapshot()
    _empty_tables()
    load_demo(only_if_empty=True)
    assert snapshot() == first


def test_the_demo_keeps_existing_users(app):
    from conftest import make_user
    mine = make_user("admin@example.com", role="admin", name="The Real Admin")
    load_demo()
    assert User.get_by_id(mine.id).name == "The Real Admin"
    assert User.select().where(User.email == "admin@example.com").count() == 1
