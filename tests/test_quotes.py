"""The quote domain: defaults, lines, approval rules, states, revisions, validity, input."""
import datetime
from decimal import Decimal as D

import pytest

from conftest import make_account, make_contact, make_user
from models.pricing import MarginPolicy, PriceAgreement, margin_policy
from models.products import Product, ProductText, set_search_name
from models.db import StaleRecord
from models.quotes import (Quote, QuoteLine, accept, add_free_line, add_product_line, approval_reasons,
                           approve, can_approve, clean_line, clean_lines, clean_quote_header,
                           copy_quote, create_quote, decline, expire_due_quotes, mark_sent,
                           reject, remind_before_expiry, revise, revision_diff, sendable_error,
                           submit, update_header, update_lines)
from models.tasks import Task
from models.timeline import TimelineEntry
from models.validation import Invalid


def make_product(code="P-100", name="Oak table", list_price="100", cost_price="60", vat="21",
                 stock="10", reserved="0", category="furniture", lead_time_days=5, **fields):
    product = Product(code=code, name=name, list_price=D(list_price), cost_price=D(cost_price),
                      vat_rate=D(vat), stock=D(stock), reserved=D(reserved), category=category,
                      lead_time_days=lead_time_days, **fields)
    set_search_name(product)
    product.save()
    return product


def set_policy(threshold="10000", min_line="10", min_quote="15"):
    policy = margin_policy()
    (MarginPolicy.update(approval_threshold=D(threshold), min_line_margin_pct=D(min_line),
                         min_quote_margin_pct=D(min_quote))
     .where(MarginPolicy.id == policy.id)
     .execute())


def quote_for(author, account=None, with_email=True, **account_fields):
    """A draft quote for a fresh account and contact (with an email address)."""
    account = account or make_account(author, **account_fields)
    emails = "anna@devries.nl" if with_email else ""
    contact = make_contact(account, emails=emails)
    return create_quote(account, author, contact)


def add_line(quote, quantity="1", unit_price="100", discount="0", cost="60", vat="21",
             description="Consulting", product=None, agreed_price=None):
    last = QuoteLine.select().where(QuoteLine.quote == quote).count()
    return QuoteLine.create(quote=quote, position=last + 1, product=product,
                            description=description, quantity=D(quantity),
                            unit_price=D(unit_price), discount_pct=D(discount),
                            cost_price=D(cost), vat_rate=D(vat), agreed_price=agreed_price)


def agree(account, discount, category=None, product=None):
    return PriceAgreement.create(account=account, category=category, product=product,
                                 discount_pct=D(discount))


def translate(product, language, name, description=""):
    return ProductText.create(product=product, language=language, name=name,
                              description=description)


@pytest.fixture
def finance(app):
    return make_user("fin@example.com", role="finance", name="Fenna Finance")


def approved_quote(author, approver=None, **line):
    """A quote that went through approval (automatically, or by `approver`)."""
    quote = quote_for(author)
    add_line(quote, **line)
    submit(quote, author)
    if quote.status == "awaiting_approval":
        approve(quote, approver, "Fine by me")
    return quote


def sent_quote(author, **line):
    quote = approved_quote(author, **line)
    return mark_sent(quote, author)


# --- creating ------------------------------------------------------------------------------

def test_a_new_quote_takes_its_defaults_from_the_account_and_contact(user):
    account = make_account(user, language="nl", currency="EUR", payment_terms="30 days net",
                           delivery_terms="DAP Amsterdam")
    contact = make_contact(account, language="el")
    quote = create_quote(account, user, contact)
    assert quote.status == "draft" and quote.revision == 1
    assert quote.number == f"Q-{datetime.date.today().year}-0001"
    assert (quote.payment_terms, quote.delivery_terms) == ("30 days net", "DAP Amsterdam")
    assert quote.valid_until == datetime.date.today() + datetime.timedelta(days=30)
    assert quote.language == "el"       # the contact's language wins
    assert create_quote(account, user).language == "nl"   # else the account's
    assert create_quote(account, user).number.endswith("-0003")


def test_a_contact_of_another_account_is_refused(user):
    other = make_contact(make_account(user, name="Other"))
    with pytest.raises(Invalid) as refused:
        create_quote(make_account(user), user, other)
    assert "contact" in refused.value.errors


def test_adding_a_product_fills_the_line_from_the_catalogue_and_the_agreement(user):
    quote = quote_for(user)                       # account language nl
    table = make_product(list_price="200", cost_price="90", vat="21", stock="5", reserved="2")
    translate(table, "nl", "Eiken tafel", "Massief eiken, 180 cm")
    agree(quote.account, "10", category="furniture")
    line = add_product_line(quote, table)
    line = QuoteLine.get_by_id(line.id)
    assert line.description == "Eiken tafel\nMassief eiken, 180 cm"
    assert (line.unit_price, line.agreed_price) == (D("180"), D("180"))   # 200 less 10 %
    assert (line.cost_price, line.vat_rate, line.unit) == (D("90"), D("21"), "pc")
    assert line.available == D("3") and line.lead_time_days == 5
    assert not line.short_of_stock
    QuoteLine.update(quantity=D("4")).where(QuoteLine.id == line.id).execute()
    assert QuoteLine.get_by_id(line.id).short_of_stock      # 4 wanted, 3 available


def test_a_product_agreement_beats_the_category_agreement(user):
    quote = quote_for(user)
    table = make_product(list_price="100")
    agree(quote.account, "10", category="furniture")
    agree(quote.account, "25", product=table)
    assert add_product_line(quote, table).unit_price == D("75")


def test_a_free_text_line_keeps_its_own_price_vat_and_cost(user):
    quote = quote_for(user)
    values = clean_line({"description": "Installation", "quantity": "2", "unit_price": "45,50",
                         "vat_rate": "9", "cost_price": "20"}, free=True)
    line = QuoteLine.get_by_id(add_free_line(quote, values).id)
    assert (line.product_id, line.unit_price, line.vat_rate, line.cost_price) == \
        (None, D("45.5"), D("9"), D("20"))
    assert quote.totals().net == D("91.00")


# --- input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("quantity", "0"), ("quantity", "-1"), ("quantity", "1.2345"), ("quantity", "abc"),
    ("quantity", ""), ("unit_price", "-0.01"), ("unit_price", "1.23456"), ("unit_price", "1e400"),
    ("discount_pct", "100.01"), ("discount_pct", "-5"), ("discount_pct", "1.234"),
    ("discount_pct", "ten"), ("quantity", "NaN"), ("unit_price", "Infinity"),
])
def test_bad_line_input_gets_a_message_at_its_field(field, value):
    data = {"quantity": "1", "unit_price": "10", "discount_pct": "0", field: value}
    with pytest.raises(Invalid) as refused:
        clean_line(data)
    assert list(refused.value.errors) == [field]


def test_good_line_input_is_read_exactly():
    values = clean_line({"quantity": "1.125", "unit_price": "1.234,5678", "discount_pct": "7,5"})
    assert values == {"quantity": D("1.125"), "unit_price": D("1234.5678"),
                      "discount_pct": D("7.5")}


def test_a_free_text_line_needs_a_description_and_vat_rate():
    with pytest.raises(Invalid) as refused:
        clean_line({"quantity": "1", "unit_price": "5"}, free=True)
    assert set(refused.value.errors) == {"description", "vat_rate"}


def test_builder_input_messages_carry_the_line_they_belong_to(user):
    quote = quote_for(user)
    line = add_line(quote)
    with pytest.raises(Invalid) as refused:
        clean_lines({f"quantity-{line.id}": "-2", f"unit_price-{line.id}": "9"}, [line])
    assert list(refused.value.errors) == [f"quantity-{line.id}"]


def test_header_validity_cannot_move_into_the_past(user):
    quote = quote_for(user)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    with pytest.raises(Invalid) as refused:
        clean_quote_header({"valid_until": yesterday.isoformat(), "language": "en"}, quote)
    assert "valid_until" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        clean_quote_header({"valid_until": "2026-13-40", "language": "xx"}, quote)
    assert set(refused.value.errors) == {"valid_until", "language"}


# --- approval rules ------------------------------------------------------------------------

def test_within_every_limit_a_quote_is_approved_automatically(user):
    set_policy(threshold="10000", min_line="10", min_quote="15")
    quote = quote_for(user)
    add_line(quote, quantity="2", unit_price="100", discount="5", cost="60")   # 40 % margin
    assert approval_reasons(quote) == []
    submit(quote, user)
    assert quote.status == "approved" and quote.approved_by is None
    assert quote.approved_fingerprint == quote.fingerprint()
    assert sendable_error(quote) is None


def test_an_account_manager_over_the_discount_limit_needs_approval(user):
    quote = quote_for(user)                           # account manager: 10 % by default
    add_line(quote, unit_price="100", discount="12", cost="10")
    reasons = approval_reasons(quote)
    assert len(reasons) == 1 and "discount of 12 %" in reasons[0] and "the 10 %" in reasons[0]
    submit(quote, user)
    assert quote.status == "awaiting_approval"
    assert "waiting for approval" in sendable_error(quote)


def test_the_same_discount_is_within_a_managers_limit(manager):
    quote = quote_for(manager)                        # manager: 25 %
    add_line(quote, unit_price="100", discount="12", cost="10")
    assert approval_reasons(quote) == []


def test_a_price_typed_below_the_agreed_price_counts_as_discount(user):
    quote = quote_for(user)
    add_line(quote, unit_price="85", cost="10", agreed_price=D("100"))   # 15 % off, no discount %
    reasons = approval_reasons(quote)
    assert len(reasons) == 1 and "discount of 15 %" in reasons[0]


def test_thresholds_total_quote_margin_and_line_margin(user):
    set_policy(threshold="1000", min_line="10", min_quote="15")
    quote = quote_for(user)
    add_line(quote, quantity="10", unit_price="100.01", cost="50")      # 1000.10 > 1000
    assert [r for r in approval_reasons(quote) if "€1,000.10" in r and "€1,000.00" in r]
    quote = quote_for(user, account=quote.account)
    add_line(quote, quantity="1", unit_price="100", cost="95", description="Thin")  # 5 % line
    add_line(quote, quantity="1", unit_price="100", cost="80", description="Fair")  # 20 % line
    reasons = approval_reasons(quote)            # quote 12.5 % < 15; line "Thin" 5 % < 10
    assert any("12.5 %" in r for r in reasons)
    assert any("Thin" in r and "margin 5 %" in r for r in reasons)
    assert not any("Fair" in r for r in reasons)
    set_policy(threshold="1000", min_line="5", min_quote="12.5")    # exactly at the minimums
    assert approval_reasons(quote) == []


def test_who_may_approve(user, manager, finance, admin):
    quote = quote_for(user)
    assert can_approve(manager, quote) and can_approve(finance, quote)
    assert not can_approve(user, quote) and not can_approve(admin, quote)
    own = quote_for(manager)
    assert not can_approve(manager, own)


def test_a_manager_may_not_approve_their_own_quote(manager, finance):
    quote = quote_for(manager)
    add_line(quote, quantity="200", unit_price="100", cost="10")   # 20,000: over the threshold
    submit(quote, manager)
    assert quote.status == "awaiting_approval"
    with pytest.raises(Invalid) as refused:
        approve(quote, manager, "Looks good")
    assert "own quote" in str(refused.value.errors["status"])
    approve(quote, finance, "Agreed with the director")
    assert quote.status == "approved" and quote.approved_by_id == finance.id
    assert quote.approval_comment == "Agreed with the director"


def test_who_changed_a_quote_may_not_approve_it(user, manager, finance):
    """Four eyes: a manager who edits someone else's quote cannot approve it afterwards,
    whoever submits it again; another approver can."""
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    submit(quote, user)
    line = quote.ordered_lines().get()
    update_lines(quote, {line.id: {"discount_pct": D("32")}}, by=manager)
    quote = Quote.get_by_id(quote.id)
    assert quote.status == "draft"
    submit(quote, user)
    assert not can_approve(manager, quote) and can_approve(finance, quote)
    with pytest.raises(Invalid) as refused:
        approve(quote, manager, "My own change, approved")
    assert "You changed this quote" in str(refused.value.errors["status"])
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"
    approve(quote, finance, "Checked")
    assert Quote.get_by_id(quote.id).approved_by_id == finance.id


def test_a_change_that_changes_nothing_does_not_make_an_editor(user, manager):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    submit(quote, user)
    update_header(quote, {"payment_terms": quote.payment_terms}, by=manager)
    assert can_approve(manager, Quote.get_by_id(quote.id))


def test_approving_needs_a_comment_and_an_awaiting_quote(user, manager):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    with pytest.raises(Invalid):
        approve(quote, manager, "Too early")               # still a draft
    submit(quote, user)
    with pytest.raises(Invalid) as refused:
        approve(quote, manager, "   ")
    assert "comment" in refused.value.errors
    with pytest.raises(Invalid):
        approve(quote, user, "I approve myself")            # not an approver
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"


def test_rejecting_sends_the_quote_back_to_draft_with_the_reason(user, manager):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    submit(quote, user)
    reject(quote, manager, "30 % is too much for this account")
    quote = Quote.get_by_id(quote.id)
    assert quote.status == "draft" and quote.approved_fingerprint == ""
    assert quote.rejection_comment == "30 % is too much for this account"
    assert quote.rejected_by_id == manager.id


# --- approval covers exactly what was approved --------------------------------------------

def test_editing_an_approved_quote_puts_it_back_to_draft(user, manager):
    quote = approved_quote(user, manager, discount="30", cost="10")
    assert quote.approved_by_id == manager.id
    line = quote.ordered_lines().get()
    update_lines(quote, {line.id: {"discount_pct": D("35")}})
    quote = Quote.get_by_id(quote.id)
    assert quote.status == "draft" and quote.approved_by is None
    assert quote.approved_fingerprint == ""
    assert "Submit" in sendable_error(quote)


def test_changing_terms_of_an_awaiting_quote_puts_it_back_to_draft(user):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    submit(quote, user)
    update_header(quote, {"payment_terms": "90 days"})
    assert Quote.get_by_id(quote.id).status == "draft"


def test_saving_without_a_change_keeps_the_approval(user, manager):
    quote = approved_quote(user, manager, discount="30", cost="10")
    line = quote.ordered_lines().get()
    update_lines(quote, {line.id: {"discount_pct": D("30"), "quantity": D("1")}})
    assert Quote.get_by_id(quote.id).status == "approved"


def test_a_change_made_behind_the_models_back_cannot_be_sent(user, manager):
    quote = approved_quote(user, manager, discount="30", cost="10")
    # Someone changes the price directly in the database (or a future bug does).
    QuoteLine.update(unit_price=D("1")).where(QuoteLine.quote == quote).execute()
    quote = Quote.get_by_id(quote.id)
    assert quote.status == "approved"
    assert "changed after it was approved" in sendable_error(quote)
    with pytest.raises(Invalid):
        mark_sent(quote, user)
    assert Quote.get_by_id(quote.id).status == "approved"


def test_a_forged_status_without_approval_cannot_be_sent(user):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    Quote.update(status="approved").where(Quote.id == quote.id).execute()
    assert "changed after it was approved" in sendable_error(Quote.get_by_id(quote.id))


def test_a_copy_needs_its_own_approval(user, manager):
    quote = approved_quote(user, manager, discount="30", cost="10")
    copy = copy_quote(quote, user)
    assert copy.number != quote.number and copy.status == "draft"
    assert copy.approved_fingerprint == "" and copy.approved_by is None
    assert [l.discount_pct for l in copy.ordered_lines()] == [D("30")]
    assert sendable_error(copy) is not None
    submit(copy, user)
    assert copy.status == "awaiting_approval"


def test_an_edit_is_refused_over_a_newer_change(user):
    quote = quote_for(user)
    line = add_line(quote)
    seen = quote.version
    update_lines(Quote.get_by_id(quote.id), {line.id: {"quantity": D("2")}}, seen)
    with pytest.raises(StaleRecord):
        update_lines(Quote.get_by_id(quote.id), {line.id: {"quantity": D("3")}}, seen)
    assert QuoteLine.get_by_id(line.id).quantity == D("2")


# --- states --------------------------------------------------------------------------------

def test_sending_needs_a_contact_with_an_email_address(user):
    quote = quote_for(user, with_email=False)
    add_line(quote)
    submit(quote, user)
    assert "email address" in sendable_error(quote)
    no_contact = create_quote(quote.account, user)
    add_line(no_contact)
    submit(no_contact, user)
    assert "Choose the contact" in sendable_error(no_contact)


def test_the_full_happy_path(user):
    quote = sent_quote(user)
    assert quote.status == "sent" and quote.sent_at is not None
    accept(quote, "Anna de Vries", "PO-123")
    quote = Quote.get_by_id(quote.id)
    assert (quote.status, quote.accepted_by_name, quote.purchase_order) == \
        ("accepted", "Anna de Vries", "PO-123")
    entry = TimelineEntry.get(TimelineEntry.account == quote.account_id)
    assert entry.kind == "quote" and "Anna de Vries" in entry.subject


def test_declining_records_the_reason_on_the_timeline(user):
    quote = sent_quote(user)
    decline(quote, "Too expensive")
    assert Quote.get_by_id(quote.id).status == "declined"
    entry = TimelineEntry.get(TimelineEntry.account == quote.account_id)
    assert entry.kind == "quote" and entry.summary == "Too expensive"


@pytest.mark.parametrize("status", ["draft", "awaiting_approval", "approved", "accepted",
                                    "declined", "expired", "superseded"])
def test_only_a_sent_quote_can_be_answered(user, status):
    quote = quote_for(user)
    add_line(quote)
    Quote.update(status=status).where(Quote.id == quote.id).execute()
    quote = Quote.get_by_id(quote.id)
    with pytest.raises(Invalid):
        accept(quote, "Anna")
    with pytest.raises(Invalid):
        decline(quote, "No")
    assert Quote.get_by_id(quote.id).status == status


def test_a_quote_past_its_date_cannot_be_accepted_even_before_the_job_ran(user):
    quote = sent_quote(user)
    Quote.update(valid_until=datetime.date.today() - datetime.timedelta(days=1)).where(
        Quote.id == quote.id).execute()
    with pytest.raises(Invalid) as refused:
        accept(Quote.get_by_id(quote.id), "Anna")
    assert "expired" in str(refused.value.errors["status"])


def test_accepting_needs_a_name(user):
    quote = sent_quote(user)
    with pytest.raises(Invalid) as refused:
        accept(quote, "  ")
    assert "name" in refused.value.errors


@pytest.mark.parametrize("status, allowed", [
    ("draft", {"submit"}), ("awaiting_approval", {"approve", "reject"}),
    ("approved", {"send"}), ("sent", {"revise", "accept", "decline"}),
    ("accepted", set()), ("declined", {"revise"}), ("expired", {"revise"}),
    ("superseded", set()),
])
def test_every_transition_allowed_or_refused(user, manager, status, allowed):
    actions = {
        "submit": lambda q: submit(q, user),
        "approve": lambda q: approve(q, manager, "ok"),
        "reject": lambda q: reject(q, manager, "no"),
        "send": lambda q: mark_sent(q, user),
        "revise": lambda q: revise(q, user),
        "accept": lambda q: accept(q, "Anna"),
        "decline": lambda q: decline(q, "No"),
    }
    account = make_account(user)
    contact = make_contact(account, emails="anna@devries.nl")
    for name, action in actions.items():
        quote = create_quote(account, user, contact)
        add_line(quote, discount="30", cost="10")      # needs approval
        fields = {"status": status}
        if status == "approved":
            fields["approved_fingerprint"] = quote.fingerprint()
        Quote.update(**fields).where(Quote.id == quote.id).execute()
        quote = Quote.get_by_id(quote.id)
        if name in allowed:
            action(quote)
        else:
            with pytest.raises(Invalid):
                action(quote)
            assert Quote.get_by_id(quote.id).status == status, name


@pytest.mark.parametrize("start, target", [
    ("draft", "accepted"), ("draft", "sent"), ("awaiting_approval", "sent"),
    ("approved", "accepted"), ("sent", "draft"), ("accepted", "sent"), ("superseded", "sent"),
])
def test_the_model_refuses_a_jump_between_statuses(user, start, target):
    """However the code changes a quote, save() and save_checked() only move it along
    TRANSITIONS: no path sets a draft to accepted."""
    quote = quote_for(user)
    Quote.update(status=start).where(Quote.id == quote.id).execute()
    for save in (lambda q: q.save(), lambda q: q.save_checked(q.version)):
        quote = Quote.get_by_id(quote.id)
        quote.status = target
        with pytest.raises(Invalid) as refused:
            save(quote)
        assert "cannot go from" in str(refused.value.errors["status"])
        assert Quote.get_by_id(quote.id).status == start


def test_the_model_allows_the_next_status(user):
    quote = quote_for(user)
    quote.status = "awaiting_approval"
    quote.save()
    quote.status = "draft"
    quote.save_checked(quote.version)
    assert Quote.get_by_id(quote.id).status == "draft"


def test_content_of_a_sent_quote_cannot_change(user):
    quote = sent_quote(user)
    line = quote.ordered_lines().get()
    with pytest.raises(Invalid):
        update_lines(quote, {line.id: {"quantity": D("5")}})
    with pytest.raises(Invalid):
        update_header(quote, {"payment_terms": "cash"})
    assert QuoteLine.get_by_id(line.id).quantity == D("1")


# --- revisions -----------------------------------------------------------------------------

def test_revising_makes_the_next_revision_and_supersedes_the_sent_one(user):
    quote = sent_quote(user)
    revision = revise(quote, user)
    assert (revision.number, revision.revision, revision.status) == (quote.number, 2, "draft")
    assert revision.display_number == f"{quote.number}-2"
    assert revision.previous_id == quote.id
    assert Quote.get_by_id(quote.id).status == "superseded"
    assert [l.description for l in revision.ordered_lines()] == ["Consulting"]
    with pytest.raises(Invalid):
        accept(Quote.get_by_id(quote.id), "Anna")
    with pytest.raises(Invalid):
        revise(Quote.get_by_id(quote.id), user)


@pytest.mark.parametrize("answer", ["declined", "expired"])
def test_a_declined_or_expired_quote_can_be_revised_and_keeps_its_answer(user, answer):
    """After a "no" the negotiation goes on: the new revision is a draft, the declined (or
    expired) one stays as the customer left it."""
    quote = sent_quote(user)
    if answer == "declined":
        decline(quote, "Too expensive")
    else:
        Quote.update(valid_until=datetime.date.today() - datetime.timedelta(days=1)) \
            .where(Quote.id == quote.id).execute()
        assert expire_due_quotes() == 1
    quote = Quote.get_by_id(quote.id)
    revision = revise(quote, user)
    assert (revision.revision, revision.status, revision.previous_id) == (2, "draft", quote.id)
    assert Quote.get_by_id(quote.id).status == answer
    with pytest.raises(Invalid) as refused:      # only the latest revision, and once
        revise(Quote.get_by_id(quote.id), user)
    assert "newer revision" in str(refused.value.errors["status"])
    assert Quote.select().where(Quote.number == quote.number).count() == 2


def test_the_diff_between_revisions(user):
    quote = quote_for(user)
    table = make_product()
    chair = make_product(code="P-200", name="Chair", list_price="50", cost_price="20")
    add_product_line(quote, table)
    add_product_line(quote, chair)
    add_line(quote, description="Delivery", unit_price="40", cost="20")
    submit(quote, user)
    mark_sent(quote, user)
    revision = revise(quote, user)
    lines = {l.description.splitlines()[0]: l for l in revision.ordered_lines()}
    update_lines(revision, {lines["Oak table"].id: {"quantity": D("3"), "discount_pct": D("5")}},
                 remove={lines["Delivery"].id})
    add_line(revision, description="Assembly", unit_price="80", cost="30")
    update_header(revision, {"payment_terms": "14 days"})
    diff = revision_diff(Quote.get_by_id(quote.id), Quote.get_by_id(revision.id))
    changes = {(c.kind, c.description): c.changes for c in diff.lines}
    assert set(changes) == {("changed", "Oak table"), ("added", "Assembly"),
                            ("removed", "Delivery")}
    assert [(str(label), old, new) for label, old, new in changes[("changed", "Oak table")]] == \
        [("Quantity", D("1"), D("3")), ("Discount %", D("0"), D("5"))]
    assert [(str(label), old, new) for label, old, new in diff.terms] == \
        [("Payment terms", "", "14 days")]
    assert not revision_diff(quote, quote)


# --- validity ------------------------------------------------------------------------------

def test_the_daily_job_expires_sent_quotes_past_their_date(user):
    today = datetime.date.today()
    late = sent_quote(user)
    Quote.update(valid_until=today - datetime.timedelta(days=1)).where(
        Quote.id == late.id).execute()
    current = sent_quote(user)
    draft = quote_for(user)
    Quote.update(valid_until=today - datetime.timedelta(days=5)).where(
        Quote.id == draft.id).execute()
    assert expire_due_quotes(today) == 1
    assert Quote.get_by_id(late.id).status == "expired"
    assert Quote.get_by_id(current.id).status == "sent"
    assert Quote.get_by_id(draft.id).status == "draft"
    assert expire_due_quotes(today) == 0
    entry = TimelineEntry.get(TimelineEntry.account == late.account_id)
    assert entry.kind == "quote" and late.number in entry.subject


def test_the_reminder_task_is_created_once_a_few_days_before_expiry(user):
    today = datetime.date.today()
    soon = sent_quote(user)
    Quote.update(valid_until=today + datetime.timedelta(days=2)).where(
        Quote.id == soon.id).execute()
    later = sent_quote(user)          # valid 30 days: not yet
    assert remind_before_expiry(days=3, today=today) == 1
    assert remind_before_expiry(days=3, today=today) == 0
    assert remind_before_expiry(days=3, today=today + datetime.timedelta(days=1)) == 0
    task = Task.get()
    assert task.owner_id == user.id and task.account_id == soon.account_id
    assert soon.number in task.objective and task.due_date == today
    assert Quote.get_by_id(later.id).expiry_reminded_at is None
