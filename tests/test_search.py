"""The global search over accounts and contacts: the header's live results and the page."""
import re

from conftest import make_account, make_contact, make_user, text_of

HX = {"HX-Request": "true"}


def test_search_page_and_fragment_on_the_same_url(auth, user):
    account = make_account(user, name="Bakkerij Müller", city="Utrecht")
    make_contact(account, first_name="Jürgen", last_name="Müller", position="Owner",
                 emails="juergen@bakkerij-muller.nl, j@home.example")
    page = auth.get("/search?q=muller")
    assert page.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    part = auth.get("/search?q=muller", headers=HX)
    assert part.status_code == 200
    assert "<html" not in part.get_data(as_text=True)
    assert "HX-Request" in part.headers["Vary"]
    text = text_of(part)
    # The account with its city and stage, the contact with account, position and main address.
    assert "Bakkerij Müller Utrecht · Customer" in text
    assert "Jürgen Müller Bakkerij Müller · Owner · juergen@bakkerij-muller.nl" in text
    assert "j@home.example" not in text
    # Boosted navigation to the URL gets the whole page.
    boosted = auth.get("/search?q=muller", headers={**HX, "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_results_are_links_to_the_records(auth, user):
    account = make_account(user, name="Olijfolie Kreta")
    contact = make_contact(account, first_name="Eleni", last_name="Kreta")
    html = auth.get("/search?q=kreta", headers=HX).get_data(as_text=True)
    assert f'<a href="/accounts/{account.id}">' in html
    assert f'<a href="/contacts/{contact.id}">' in html
    assert 'href="/contacts/?q=kreta"' in html  # on to the whole contacts list


def test_search_finds_contacts_by_email_and_phone(auth, user):
    account = make_account(user, name="Acme")
    make_contact(account, last_name="Byemail", emails="sales@wholesale.example")
    make_contact(account, last_name="Byphone", phone="+39 06 1234 5678")
    text = text_of(auth.get("/search?q=sales@whole", headers=HX))
    assert "Byemail" in text and "Byphone" not in text
    text = text_of(auth.get("/search?q=0612345678", headers=HX))
    assert "Byphone" in text and "Byemail" not in text


def test_search_finds_accounts_and_people_by_email_domain(auth, user):
    """What people type when they remember only the address: the domain, with or without @."""
    account = make_account(user, name="Bakkerij de Vries", email_domains="devries.nl")
    make_contact(account, first_name="Jan", last_name="Bakker", emails="jan@devries.nl")
    other = make_account(user, name="Slagerij Pieters", email_domains="pieters.nl")
    make_contact(other, first_name="Piet", last_name="Pieters", emails="piet@pieters.nl")
    for query in ("devries.nl", "@devries", "@DeVries.nl", "devries.n"):
        text = text_of(auth.get(f"/search?q={query}", headers=HX))
        assert "Bakkerij de Vries" in text and "Jan Bakker" in text, query
        assert "Pieters" not in text, query
    # An address is found by its own start, not by its domain's other people.
    make_contact(account, first_name="Els", last_name="Visser", emails="els@devries.nl")
    text = text_of(auth.get("/search?q=jan@dev", headers=HX))
    assert "Jan Bakker" in text and "Els Visser" not in text
    # A word without a dot or @ is a name, not a domain.
    text = text_of(auth.get("/search?q=devries", headers=HX))
    assert "Jan Bakker" not in text and "Bakkerij de Vries" not in text


def test_search_finds_a_phone_number_typed_the_national_way(auth, user):
    account = make_account(user, name="Acme")
    make_contact(account, last_name="Amsterdam", phone="+31 20 555 1234")
    make_contact(account, last_name="Elsewhere", phone="+31 30 123 4567")
    for query in ("0205551234", "020-555 1234", "020 5551234", "+31205551234", "0031205551234"):
        text = text_of(auth.get(f"/search?q={query}", headers=HX))
        assert "Amsterdam" in text and "Elsewhere" not in text, query


def test_search_matches_greek_without_accents(auth, user):
    account = make_account(user, name="Ελληνική Εταιρεία")
    make_contact(account, first_name="Γιώργος", last_name="Παπαδόπουλος")
    text = text_of(auth.get("/search?q=παπαδοπουλος", headers=HX))
    assert "Γιώργος Παπαδόπουλος" in text
    assert "Ελληνική Εταιρεία" in text_of(auth.get("/search?q=ελληνικη", headers=HX))


def test_search_covers_every_account_not_only_mine(auth, user):
    colleague = make_user("colleague@example.com")
    make_account(colleague, name="Someone Elses")
    assert "Someone Elses" in text_of(auth.get("/search?q=elses", headers=HX))


def test_empty_query_gives_an_empty_fragment(auth, user):
    make_account(user, name="Anything")
    part = auth.get("/search?q=", headers=HX)
    assert part.status_code == 200
    # Nothing at all, so the header's popover (:empty) stays hidden.
    assert part.get_data(as_text=True) == ""
    page = auth.get("/search")
    assert page.status_code == 200 and "Type a name" in text_of(page)


def test_nothing_found_says_so(auth, user):
    text = text_of(auth.get("/search?q=zzzz", headers=HX))
    assert "Nothing found for “zzzz”" in text


def test_search_results_are_limited(auth, user):
    account = make_account(user, name="Big")
    for i in range(12):
        make_contact(account, last_name=f"Same{i:02d}")
    html = auth.get("/search?q=same", headers=HX).get_data(as_text=True)
    assert len(re.findall(r'href="/contacts/\d+"', html)) == 8


def test_query_markup_is_escaped(auth, user):
    evil = "<script>alert(1)</script>"
    account = make_account(user, name=evil + " Account", city=evil)
    make_contact(account, first_name=evil, last_name="Evil", position=evil)
    for headers in (HX, {}):
        html = auth.get("/search?q=" + evil, headers=headers).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = auth.get("/search?q=evil", headers=HX).get_data(as_text=True)
    assert "<script>alert" not in html and html.count("&lt;script&gt;") >= 3


def test_search_needs_a_login(client):
    assert client.get("/search?q=x").status_code == 302
