"""Accounts: list, search, filters, page vs fragment, create/edit with validation and locking."""
import pytest
from playhouse.test_utils import count_queries

from conftest import form_fields, login, make_account, make_contact, make_user, text_of
from models.accounts import Account, AccountDomain, search_key

HTMX = {"HX-Request": "true"}


def test_list_is_a_page_and_its_results_a_fragment(auth, user):
    make_account(user, "Bakkerij de Vries")
    page = auth.get("/accounts/")
    fragment = auth.get("/accounts/", headers=HTMX)
    boosted = auth.get("/accounts/", headers={**HTMX, "HX-Boosted": "true"})
    restore = auth.get("/accounts/", headers={**HTMX, "HX-History-Restore-Request": "true"})
    for response in (page, fragment, boosted, restore):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        assert "Bakkerij de Vries" in text_of(response)
    assert "<html" in page.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in boosted.get_data(as_text=True)
    assert "<html" in restore.get_data(as_text=True)


def test_search_ignores_case_and_accents(auth, user):
    make_account(user, "Ζαχαροπλαστείο Παπαδόπουλος")
    make_account(user, "Café Müller")
    make_account(user, "Harbour Lane Catering")
    assert "Café Müller" in text_of(auth.get("/accounts/?q=MULLER"))
    assert "Παπαδόπουλος" in text_of(auth.get("/accounts/?q=παπαδοπουλος"))
    response = text_of(auth.get("/accounts/?q=cafe"))
    assert "Café Müller" in response and "Harbour" not in response
    assert "1 account" in response


def test_search_takes_wildcards_literally(auth, user):
    make_account(user, "Alpha 100% Bio")
    make_account(user, "Beta Foods")
    assert "Beta" not in text_of(auth.get("/accounts/?q=%25"))
    assert "Alpha" in text_of(auth.get("/accounts/?q=100%25"))
    assert "Beta" not in text_of(auth.get("/accounts/?q=_"))


def test_filters_and_sorting(auth, user, manager):
    make_account(user, "Aardappelhandel", stage="prospect", size_class="S", tags="horeca, top")
    make_account(manager, "Bianchi Forniture", stage="customer", size_class="XL")
    make_account(user, "Cretan Oils", stage="customer", size_class="M", tags="top")
    assert _names(auth.get("/accounts/?stage=customer")) == ["Bianchi Forniture", "Cretan Oils"]
    assert _names(auth.get(f"/accounts/?owner={manager.id}")) == ["Bianchi Forniture"]
    assert _names(auth.get("/accounts/?size_class=S")) == ["Aardappelhandel"]
    assert _names(auth.get("/accounts/?tag=top")) == ["Aardappelhandel", "Cretan Oils"]
    assert _names(auth.get("/accounts/?sort=-name")) == [
        "Cretan Oils", "Bianchi Forniture", "Aardappelhandel"]


def test_pagination(auth, user):
    for i in range(30):
        make_account(user, f"Account {i:02d}")
    first = auth.get("/accounts/")
    second = auth.get("/accounts/?page=2")
    assert len(_names(first)) == 25 and _names(first)[0] == "Account 00"
    assert _names(second) == [f"Account {i:02d}" for i in range(25, 30)]
    assert "Page 2 of 2" in text_of(second)
    assert "30 accounts" in text_of(first)


def test_list_queries_do_not_grow_with_rows(auth, user):
    for i in range(3):
        make_account(user, f"Few {i}", tags="a, b")
    with count_queries() as few:
        auth.get("/accounts/")
    for i in range(20):
        make_account(user, f"Many {i}", tags="a, b")
    with count_queries() as many:
        auth.get("/accounts/")
    assert many.count == few.count


def test_create_account(auth, user):
    response = auth.post("/accounts/new", data={
        "name": "Ferramenta Rossi S.r.l.", "stage": "prospect", "size_class": "L",
        "owner": str(user.id), "language": "it", "currency": "EUR",
        "email_domains": "rossi.it, @ferramentarossi.it", "website": "www.rossi.it",
        "tags": "hardware, north", "vision": "Grow online.\nKeep the shop."})
    assert response.status_code == 303
    account = Account.get(Account.name == "Ferramenta Rossi S.r.l.")
    assert response.headers["Location"].endswith(f"/accounts/{account.id}")
    assert account.email_domains == ["ferramentarossi.it", "rossi.it"]
    assert account.website == "https://www.rossi.it"
    assert account.tag_names == ["hardware", "north"]
    assert account.search_name == search_key("Ferramenta Rossi S.r.l.")
    assert "Grow online." in text_of(auth.get(f"/accounts/{account.id}"))


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "This field is required."),
    ("stage", "dreaming", "Choose one of the options."),
    ("email_domains", "gmail.com", "free-mail"),
    ("email_domains", "not a domain!", "not a valid domain"),
    ("website", "ht tp://x", "Enter a web address"),
])
def test_invalid_account_comes_back_with_input_and_message(auth, user, field, value, message):
    data = {"name": "Keep Me Typed", "stage": "prospect", "size_class": "M",
            "owner": str(user.id), "language": "en", "currency": "EUR", "city": "Utrecht",
            field: value}
    response = auth.post("/accounts/new", data=data, headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="Utrecht"' in html
    assert "<html" not in html
    assert Account.select().count() == 0
    plain = auth.post("/accounts/new", data=data)
    assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True)


def test_domain_of_another_account_is_refused(auth, user):
    make_account(user, "First", email_domains="shared.nl")
    response = auth.post("/accounts/new", data={
        "name": "Second", "stage": "prospect", "size_class": "M", "owner": str(user.id),
        "language": "nl", "currency": "EUR", "email_domains": "shared.nl"})
    assert response.status_code == 422
    assert "already belongs to First" in text_of(response)
    assert AccountDomain.select().count() == 1


def test_inline_check_uses_the_save_rules(auth, user):
    response = auth.post("/accounts/check", data={"_field": "email_domains",
                                                  "email_domains": "hotmail.com"})
    assert response.status_code == 200
    assert 'id="email_domains-error"' in response.get_data(as_text=True)
    assert "free-mail" in text_of(response)
    fine = auth.post("/accounts/check", data={"_field": "name", "name": "Fine"})
    assert text_of(fine) == ""


def test_script_is_escaped_everywhere(auth, user):
    evil = "<script>alert(1)</script>"
    account = make_account(user, evil, city=evil, industry=evil, vision=evil, tags=evil[:30])
    make_contact(account, last_name=evil, position=evil)
    for url in ("/accounts/", f"/accounts/{account.id}", f"/accounts/{account.id}/edit",
                f"/search?q=script"):
        html = auth.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html, url
        assert "&lt;script&gt;alert(1)" in html, url


def test_unknown_account_is_404(auth):
    assert auth.get("/accounts/999999").status_code == 404
    assert auth.get("/accounts/999999/edit").status_code == 404
    assert auth.post("/accounts/999999/edit", data={}).status_code == 404


def test_only_owner_team_and_leads_may_edit(client, user, manager):
    account = make_account(user, "Mine")
    colleague = make_user("other@example.com")
    login(client, colleague)
    assert client.get(f"/accounts/{account.id}").status_code == 200
    assert client.get(f"/accounts/{account.id}/edit").status_code == 403
    assert client.post(f"/accounts/{account.id}/edit", data={"name": "Taken"}).status_code == 403
    assert client.post(f"/accounts/{account.id}/delete").status_code == 403
    assert Account.get_by_id(account.id).name == "Mine"
    login(client, user)
    client.post(f"/accounts/{account.id}/team", data={"user": colleague.id, "role": "tech"})
    login(client, colleague)
    assert client.get(f"/accounts/{account.id}/edit").status_code == 200
    login(client, manager)
    assert client.post(f"/accounts/{account.id}/delete").status_code == 303
    assert Account.get_or_none(Account.id == account.id) is None


def test_missing_csrf_token_is_refused(auth, user):
    account = make_account(user, "Guarded")
    response = auth.post(f"/accounts/{account.id}/edit", data={"name": "Changed"}, csrf=False)
    assert response.status_code == 400
    assert "expired" in text_of(response)
    assert Account.get_by_id(account.id).name == "Guarded"


def test_second_concurrent_save_is_refused(auth, user):
    account = make_account(user, "Shared")
    form = _edit_form(auth, account)
    first = auth.post(f"/accounts/{account.id}/edit", data={**form, "city": "Delft"})
    assert first.status_code == 303
    second = auth.post(f"/accounts/{account.id}/edit", data={**form, "city": "Gouda"},
                       headers=HTMX)
    assert second.status_code == 409
    assert "Someone else changed this account" in text_of(second)
    assert 'value="Gouda"' in second.get_data(as_text=True)
    assert Account.get_by_id(account.id).city == "Delft"


def test_edit_keeps_domains_and_tags(auth, user):
    account = make_account(user, "Edited", email_domains="edited.nl", tags="one, two")
    form = _edit_form(auth, account)
    assert form["email_domains"] == "edited.nl" and form["tags"] == "one, two"
    assert auth.post(f"/accounts/{account.id}/edit",
                     data={**form, "name": "Edited Again"}).status_code == 303
    account = Account.get_by_id(account.id)
    assert account.name == "Edited Again" and account.version == 2
    assert account.email_domains == ["edited.nl"] and account.tag_names == ["one", "two"]


def _edit_form(client, account):
    """The edit form's fields as the browser would submit them."""
    html = client.get(f"/accounts/{account.id}/edit").get_data(as_text=True)
    return form_fields(html, "account-form")


def _names(response):
    import re
    return re.findall(r'class="primary" href="/accounts/\d+">([^<]+)</a>', response.get_data(as_text=True))


def test_htmx_save_redirects_the_browser(auth, user):
    account = make_account(user, "Via htmx")
    form = _edit_form(auth, account)
    response = auth.post(f"/accounts/{account.id}/edit", data={**form, "city": "Zwolle"},
                         headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/accounts/{account.id}"
    boosted = auth.post(f"/accounts/{account.id}/edit", data={**_edit_form(auth, account)},
                        headers={**HTMX, "HX-Boosted": "true"})
    assert boosted.status_code == 303


def test_a_rejected_team_member_is_said_at_the_field_with_the_input_kept(auth, user):
    account = make_account(user)
    colleague = make_user("colleague@example.com", name="Carla Colleague")
    response = auth.post(f"/accounts/{account.id}/team",
                         data={"user": str(colleague.id), "role": "x" * 61})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="team-role-error"' in html and 'aria-invalid="true"' in html
    assert f'value="{"x" * 61}"' in html
    assert f'<option value="{colleague.id}" selected>' in html
    owner = auth.post(f"/accounts/{account.id}/team", data={"user": str(user.id), "role": "me"})
    assert owner.status_code == 422
    assert "The owner is already responsible for this account." in text_of(owner)
    assert account.team_members().count() == 0
    added = auth.post(f"/accounts/{account.id}/team",
                      data={"user": str(colleague.id), "role": "Technical sales"})
    assert added.status_code == 303 and account.team_members().count() == 1


def test_ids_beyond_the_database_range_are_404(auth, user):
    huge = 2**40
    assert auth.get(f"/accounts/{huge}").status_code == 404
    assert auth.get(f"/tasks/new?account={huge}").status_code == 404
    account = make_account(user)
    response = auth.post(f"/accounts/{account.id}/team", data={"user": str(huge)})
    assert response.status_code == 422          # no such colleague: said at the field
    assert "Choose a colleague to add to the team." in text_of(response)
    check = auth.post("/accounts/check", data={"_field": "name", "name": "x",
                                               "account_id": str(huge)})
    assert check.status_code == 200


def test_partial_update_checks_stand_in_against_the_stored_owner(user, manager, app):
    from models.accounts import clean_account
    from models.validation import Invalid
    account = make_account(user, "Partial")
    with pytest.raises(Invalid) as refused:
        clean_account({"stand_in": str(user.id)}, account, partial=True)
    assert "stand_in" in refused.value.errors
    assert clean_account({"stand_in": str(manager.id)}, account, partial=True)["stand_in"] == manager


def test_a_list_where_a_choice_belongs_is_a_message_not_a_crash(user, app):
    from models.accounts import clean_account
    from models.validation import Invalid
    with pytest.raises(Invalid) as refused:
        clean_account({"name": "x", "stage": ["customer"], "size_class": {"a": 1},
                       "owner": str(user.id), "language": "en", "currency": "EUR"})
    assert set(refused.value.errors) == {"stage", "size_class"}


def test_a_search_counts_up_to_a_cap(auth, user, monkeypatch):
    import models.accounts
    import routes.accounts
    monkeypatch.setattr(models.accounts, "COUNT_CAP", 10)
    monkeypatch.setattr(routes.accounts, "COUNT_CAP", 10)
    for i in range(12):
        make_account(user, f"Match {i:02d}")
    make_account(user, "Other")
    capped = text_of(auth.get("/accounts/?q=match"))
    assert "More than 10 accounts" in capped
    assert "13 accounts" in text_of(auth.get("/accounts/"))      # no search: the exact count
    assert "1 account" in text_of(auth.get("/accounts/?q=other"))


@pytest.mark.parametrize("cap", [30, 100])
def test_searched_pages_and_count_from_one_pass_or_two(auth, user, monkeypatch, cap):
    """Pages within the cap come out of the one ordered pass that also counts; deeper pages
    are read on their own. Both give the same names in the same order."""
    import models.accounts
    import routes.accounts
    monkeypatch.setattr(models.accounts, "COUNT_CAP", cap)
    monkeypatch.setattr(routes.accounts, "COUNT_CAP", cap)
    names = [f"Deep {i:02d}" for i in range(60)]
    for name in reversed(names):
        make_account(user, name)
    make_account(user, "Shallow")
    for page, expected in ((1, names[:25]), (2, names[25:50]), (3, names[50:]), (4, [])):
        response = auth.get(f"/accounts/?q=deep&page={page}")
        assert _names(response) == expected, page
    counted = text_of(auth.get("/accounts/?q=deep"))
    assert ("60 accounts" in counted) == (cap == 100)
    assert ("More than 30 accounts" in counted) == (cap == 30)


def test_deep_pages_keep_the_order(auth, user):
    names = [f"Deep {i:02d}" for i in range(60)]
    for name in reversed(names):
        make_account(user, name)
    third = _names(auth.get("/accounts/?page=3"))
    assert third == names[50:60]
    assert _names(auth.get("/accounts/?page=2&sort=-name")) == list(reversed(names))[25:50]
    assert _names(auth.get("/accounts/?page=9")) == []
