"""The demo company: realistic, complete enough for every page, deterministic and quick."""
import datetime
from decimal import Decimal

import pytest

from conftest import _empty_tables, login, text_of
from models.accounts import (FREE_MAIL_DOMAINS, Account, AccountDomain, AccountTeamMember,
                             accounts_going_quiet)
from models.contacts import Contact, ContactEmail
from models.db import utcnow
from models.emails import Email, EmailAttachment
from models.demo import DEMO_PASSWORD, load_demo
from models.pricing import PriceAgreement, discount_limit, margin_policy
from models.products import Product, ProductText
from models.quotes import (STATUSES, Quote, QuoteLine, approval_reasons, history_with_diffs,
                           sendable_error)
from models.settings import clean_logo, company, is_iban
from models.tasks import Task
from models.timeline import MANUAL_KINDS, TimelineEntry, TimelineParticipant
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
        "products": [(p.code, p.name, p.category, p.list_price, p.cost_price, p.stock, p.active)
                     for p in Product.select().order_by(Product.code)],
        "texts": ProductText.select().count(),
        "agreements": sorted((a.account.name, a.category or "", a.product.code if a.product
                              else "", a.discount_pct) for a in PriceAgreement.select()),
        "quotes": [(q.display_number, q.account.name, q.author.email, q.status, q.language,
                    q.valid_until, q.totals().net)
                   for q in Quote.select().order_by(Quote.number, Quote.revision)],
        "emails": sorted((e.kind, e.status, e.subject)
                         for e in Email.select().where(Email.direction == "out")),
    }


def contact_moments():
    """The timeline's contact moments written by people (not mail, not quote events)."""
    return TimelineEntry.select().where(TimelineEntry.author.is_null(False)
                                        & TimelineEntry.kind.in_(MANUAL_KINDS))


def test_the_summary_says_what_was_loaded(demo):
    summary = demo
    assert "\n" not in summary
    assert summary.startswith(f"Demo data loaded: 7 users, {Account.select().count()} accounts, "
                              f"{Contact.select().count()} contacts, "
                              f"{contact_moments().count()} timeline entries, "
                              f"{Task.select().count()} tasks, "
                              f"{Email.select().where(Email.direction == 'in').count()} received "
                              f"emails, {Product.select().count()} products, "
                              f"{Quote.select().count()} quotes.")
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
    entries = list(contact_moments())
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
    assert kinds == {"email_in", "note", "quote"}  # the bounce is a note; quote: answers, expiry
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


# --- the offer work: catalogue, prices, margins and quotes ------------------------------------

def quotes_by_status():
    result = {}
    for quote in Quote.select().order_by(Quote.number, Quote.revision):
        result.setdefault(quote.status, []).append(quote)
    return result


def test_the_company_details_and_logo(demo):
    settings = company()
    assert settings.name == "Noordzee & Co."
    assert "Rotterdam" in settings.address and settings.email and settings.phone
    assert settings.vat_number.startswith("NL") and settings.vat_number.endswith("B01")
    assert is_iban(settings.bank_account.replace(" ", ""))
    assert settings.logo_type == "image/svg+xml"
    assert clean_logo(bytes(settings.logo)) == (bytes(settings.logo), "image/svg+xml")


def test_the_catalogue(demo):
    products = list(Product.select())
    assert 25 <= len(products) <= 30
    categories = {p.category for p in products}
    assert len(categories) >= 4 and "" not in categories
    for product in products:
        margin = (product.list_price - product.cost_price) / product.list_price
        assert Decimal("0.15") <= margin <= Decimal("0.45"), product.code
        assert product.vat_rate == (9 if product.category == "Baking ingredients" else 21)
        assert product.unit and product.lead_time_days >= 0 and product.reserved <= product.stock
    assert 1 <= sum(1 for p in products if not p.active) <= 2
    low = [p for p in products if p.active and p.available < 10]
    assert len(low) >= 3
    quoted = Product.select().join(QuoteLine).distinct()
    for product in quoted:
        languages = {t.language for t in product.texts if t.name}
        assert {"nl", "it", "el"} <= languages, product.code
        assert product.text_in("el")[0] != product.name


def test_the_margin_policy_and_price_agreements(demo):
    policy = margin_policy()
    assert 0 < policy.min_line_margin_pct < policy.min_quote_margin_pct < 50
    assert policy.approval_threshold == Decimal("7500")
    assert discount_limit("inside_sales") < discount_limit("account_manager") \
        < discount_limit("manager") <= discount_limit("admin")
    agreements = list(PriceAgreement.select())
    assert len({a.account_id for a in agreements}) >= 5
    assert any(a.category and a.product_id is None for a in agreements)
    assert any(a.product_id and a.category is None for a in agreements)
    assert all(0 < a.discount_pct < 20 for a in agreements)


def test_a_quote_in_every_state(demo):
    today = datetime.date.today()
    quotes = quotes_by_status()
    assert set(quotes) == set(STATUSES)
    everything = [q for group in quotes.values() for q in group]
    assert {q.language for q in everything} == {"nl", "it", "el", "en"}
    assert {q.author.email for q in everything} == {
        "anna@example.com", "giulia@example.com", "nikos@example.com"}
    assert all(q.language == q.account.language and q.contact.account_id == q.account_id
               for q in everything)
    assert all(q.created_at <= utcnow() for q in everything)
    # Awaiting approval, each for its own reason.
    reasons = [" ".join(approval_reasons(q)) for q in quotes["awaiting_approval"]]
    assert any("above the approval threshold" in r for r in reasons)
    assert any("more than the 10 % your role may give" in r for r in reasons)
    # Approved by Marco with a comment, and sendable as it stands.
    approved = quotes["approved"][0]
    assert approved.approved_by.email == "marco@example.com" and approved.approval_comment
    assert approved.approval_covers_content() and sendable_error(approved) is None
    # A draft Finance sent back, and one still being written that the stock cannot serve.
    assert any(q.rejected_by and q.rejection_comment for q in quotes["draft"])
    assert any(line.short_of_stock for q in quotes["draft"] for line in q.ordered_lines())
    # Sent through the outbox: every quote that went out has its email with the PDF.
    went_out = [q for q in everything if q.sent_at]
    assert len(went_out) == 5
    for quote in went_out:
        email = Email.get((Email.quote == quote) & (Email.kind == "quote"))
        attachment = EmailAttachment.get(EmailAttachment.email == email)
        assert attachment.filename == f"{quote.display_number}.pdf"
        assert bytes(attachment.content).startswith(b"%PDF")
        assert email.timeline_entry.kind == "email_out"
        assert email.timeline_entry.occurred_at == quote.sent_at
        assert quote.created_at <= quote.sent_at <= utcnow()
    outbox = {e.status for e in Email.select().where(Email.direction == "out")}
    assert outbox == {"sent"}   # nothing waits: a mail server set up later mails no demo customer
    assert quotes["sent"][0].valid_until >= today
    expired = quotes["expired"][0]
    assert expired.valid_until < today and expired.answered_at is None


def test_the_customers_answers_are_on_the_timeline(demo):
    quotes = quotes_by_status()
    accepted, declined = quotes["accepted"][0], quotes["declined"][0]
    assert accepted.accepted_by_name == accepted.contact.name and accepted.purchase_order
    assert declined.decline_reason
    for quote in (accepted, declined, quotes["expired"][0]):
        entry = (TimelineEntry.select()
                 .where((TimelineEntry.account == quote.account) & (TimelineEntry.kind == "quote"))
                 .get())
        assert quote.display_number in entry.subject
        assert entry.occurred_at <= utcnow()
        if quote.answered_at:
            assert entry.occurred_at == quote.answered_at > quote.sent_at
    assert accepted.purchase_order in TimelineEntry.get(
        (TimelineEntry.account == accepted.account) & (TimelineEntry.kind == "quote")).summary
    notices = Email.select().where(Email.kind == "quote_answer_notice")
    assert {e.quote_id for e in notices} == {accepted.id, declined.id}


def test_the_negotiation_has_two_revisions_and_what_changed(demo):
    revision = Quote.get(Quote.revision == 2)
    first = revision.previous
    assert first.status == "superseded" and first.number == revision.number
    assert revision.status == "sent" and revision.display_number == f"{revision.number}-2"
    assert revision.approved_by.email == "femke@example.com"
    assert first.sent_at < revision.created_at
    (_, none), (_, diff) = history_with_diffs(revision)
    assert none is None
    assert {change.kind for change in diff.lines} == {"changed", "added", "removed"}
    assert [label for label, _, _ in diff.terms if str(label) == "Payment terms"]


def test_the_quote_pages_render(demo, client):
    login(client, User.by_email("anna@example.com"))
    listing = client.get("/quotes/")
    assert listing.status_code == 200
    shown = text_of(listing)
    for quote in Quote.select().where(Quote.status != "superseded"):
        assert quote.display_number in shown
    for quote in Quote.select():
        page = client.get(f"/quotes/{quote.id}")
        assert page.status_code == 200, quote.display_number
        assert quote.account.name in text_of(page)
    products = client.get("/products/")
    assert products.status_code == 200 and "Combi oven 10 × GN 1/1" in text_of(products)
    draft = Quote.get(Quote.account == Account.get(Account.name == "Bakkerij Van den Berg"))
    assert 'class="stock-warning"' in client.get(f"/quotes/{draft.id}").get_data(as_text=True)
    revision = Quote.get(Quote.revision == 2)
    assert "Naglansmiddel" in text_of(client.get(f"/quotes/{revision.id}"))   # removed line
    prices = client.get(f"/accounts/{revision.account_id}/prices")
    assert prices.status_code == 200 and "Cleaning" in text_of(prices)
    login(client, User.by_email("marco@example.com"))
    queue = client.get("/quotes/approvals")
    assert queue.status_code == 200
    assert all(q.display_number in text_of(queue)
               for q in Quote.select().where(Quote.status == "awaiting_approval"))
