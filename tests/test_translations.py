"""The interface in Dutch, Italian and Greek: every string marked in the code is translated
(fuzzy counts as missing), placeholders survive translation, the catalogues compile, and a
page really renders in the user's language.

The strings are extracted from the source here, the way `make extract-messages` does, so a
string added without running it and translating it fails this suite.
"""
import gettext
import io
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from conftest import login, make_account, make_user, text_of

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("nl", "it", "el")
# As the Makefile's extract-messages target: its -k keywords and --ignore-dirs.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
IGNORED_DIRS = {"bench", "tests", "node_modules", "instance"}
# Python %-format placeholders as gettext formats them, %% included (Jinja's newstyle
# gettext always applies %, so "Discount (%%)" must stay "%%" in the translation).
PLACEHOLDER = re.compile(r"%(?:\(\w*\))?[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")
GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
COMPILED = Path(tempfile.gettempdir()) / f"accountable-translations-{os.getpid()}"


def _key(msgid):
    """Babel files a plural message under its singular msgid; gettext finds it that way too."""
    return msgid if isinstance(msgid, str) else msgid[0]


def _catalog(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def _forms(message):
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def _translated(message):
    return not message.fuzzy and all(form.strip() for form in _forms(message))


@pytest.fixture(scope="module")
def source_messages():
    """{msgid: "file:line"} for every string marked for translation in the code."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)

    def wanted(path):
        name = os.path.basename(path)
        return not name.startswith((".", "_")) and name not in IGNORED_DIRS

    found = {}
    for filename, lineno, msgid, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, KEYWORDS, directory_filter=wanted):
        found.setdefault(_key(msgid), f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def compiled():
    """The .po files compiled the way `make translations` does, into a directory of our own."""
    for language in LANGUAGES:
        target = COMPILED / language / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        with open(target / "messages.mo", "wb") as mo:
            write_mo(mo, _catalog(language))
    yield COMPILED
    shutil.rmtree(COMPILED, ignore_errors=True)


def test_the_code_marks_strings_for_translation(source_messages):
    # Guards the checks below against an extraction that silently finds nothing.
    assert "My day" in source_messages
    assert "Suspect" in source_messages  # lazy_gettext in models/
    assert "%(num)s account" in source_messages  # ngettext in a template


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_in_the_code_is_translated(language, source_messages):
    messages = {_key(m.id): m for m in _catalog(language) if m.id}
    missing = [f"{where}: {msgid!r}" for msgid, where in sorted(source_messages.items())
               if msgid not in messages or not _translated(messages[msgid])]
    assert not missing, (
        f"{len(missing)} strings have no {language} translation (run `make extract-messages`, "
        "then translate them in translations/" + language + "/LC_MESSAGES/messages.po):\n"
        + "\n".join(missing))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_the_catalogue_is_translated(language):
    catalog = _catalog(language)
    untranslated = [m.id for m in catalog if m.id and not _translated(m)]
    assert not untranslated
    assert len([m for m in catalog if m.id]) > 700


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    wrong = []
    for message in _catalog(language):
        if not message.id:
            continue
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        for index, form in enumerate(_forms(message)):
            source = sources[min(index, len(sources) - 1)]
            if sorted(PLACEHOLDER.findall(form)) != sorted(PLACEHOLDER.findall(source)):
                wrong.append(f"{source!r} -> {form!r}")
    assert not wrong, "\n".join(wrong)


def test_the_placeholder_check_sees_a_broken_translation():
    assert sorted(PLACEHOLDER.findall("Welkom, %(naam)s")) != sorted(
        PLACEHOLDER.findall("Welcome, %(name)s"))
    assert PLACEHOLDER.findall("Korting (%)") != PLACEHOLDER.findall("Discount (%%)")
    assert PLACEHOLDER.findall("da 0 a 100 % di sconto") != PLACEHOLDER.findall("from 0 to 100 % with")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_compiles(language):
    catalog = _catalog(language)
    assert catalog.num_plurals == 2
    problems = [f"{message.id!r}: {error}" for message, errors in catalog.check()
                for error in errors]
    assert not problems, "\n".join(problems)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    expected = {_key(m.id): m for m in catalog if m.id}
    assert compiled.gettext("My day") == expected["My day"].string
    singular, plural = expected["%(num)s account"].string
    assert compiled.ngettext("%(num)s account", "%(num)s accounts", 1) == singular
    assert compiled.ngettext("%(num)s account", "%(num)s accounts", 5) == plural
    assert singular != plural


def test_greek_is_written_in_greek_letters():
    """No Latin lookalike inside a Greek word (an 'o' for an 'ο' breaks search and spelling)."""
    mixed = []
    for message in _catalog("el"):
        for form in _forms(message) if message.id else []:
            for word in re.findall(r"\w+", form):
                if GREEK.search(word) and re.search(r"[A-Za-z]", word):
                    mixed.append(f"{word!r} in {form!r}")
    assert not mixed, "\n".join(mixed)


def _greek(msgid):
    return {_key(m.id): m for m in _catalog("el") if m.id}[msgid].string


@pytest.mark.parametrize("app", [{"BABEL_TRANSLATION_DIRECTORIES": str(COMPILED)}],
                         indirect=True)
def test_the_login_page_speaks_the_chosen_language(compiled, app, client):
    client.post("/language", data={"language": "el", "next": "/login"})
    page = client.get("/login")
    text = text_of(page)
    assert '<html lang="el">' in page.get_data(as_text=True)
    assert _greek("Sign in") in text
    assert _greek("Password") in text
    assert "Sign in" not in text and "Password" not in text


@pytest.mark.parametrize("app", [{"BABEL_TRANSLATION_DIRECTORIES": str(COMPILED)}],
                         indirect=True)
def test_a_greek_user_sees_greek_pages(compiled, app, client):
    user = make_user("eleni@example.com", name="Eleni", language="el")
    make_account(user, name="Kafeneio Athina", stage="customer")
    login(client, user)

    my_day = text_of(client.get("/"))
    assert _greek("My day") in my_day and "My day" not in my_day

    accounts = text_of(client.get("/accounts/"))
    assert "Kafeneio Athina" in accounts
    assert _greek("Accounts") in accounts  # the menu and the heading
    assert _greek("Customer") in accounts  # a stage: lazy_gettext in models/
    assert _greek("%(num)s account")[0].replace("%(num)s", "1") in accounts  # ngettext
    assert "Customer" not in accounts and "1 account" not in accounts


def _dutch(msgid):
    return {_key(m.id): m for m in _catalog("nl") if m.id}[msgid].string


def _insert_in_batches(model, rows, batch=400):
    from models.db import db, insert_rows
    with db.atomic():
        for start in range(0, len(rows), batch):
            insert_rows(model, rows[start:start + batch])


@pytest.mark.parametrize("app", [{"BABEL_TRANSLATION_DIRECTORIES": str(COMPILED)}],
                         indirect=True)
def test_counts_in_lists_are_written_the_dutch_way(compiled, app, client):
    """25,001 is "25.001" in Dutch, in a list's count and page numbers as everywhere else
    (|number), while the plural form is still chosen by the number and the msgid stays the same."""
    import datetime
    from models.accounts import Account
    from models.contacts import Contact
    from models.tasks import Task
    user = make_user("daan@example.com", name="Daan", language="nl")
    account = make_account(user, name="Bakkerij de Vries")
    many = 1234
    # 25,001 accounts: 1,001 pages of 25, so the page numbers need a separator too.
    _insert_in_batches(Account, [{"name": f"Klant {n:05}", "search_name": f"klant {n:05}",
                                  "owner": user.id} for n in range(25_000)])
    _insert_in_batches(Contact, [{"account": account.id, "last_name": f"Jansen {n:04}",
                                  "search_name": f"jansen {n:04}"} for n in range(many)])
    due = datetime.date.today() + datetime.timedelta(days=7)
    _insert_in_batches(Task, [{"account": account.id, "owner": user.id, "due_date": due,
                               "objective": f"Bellen {n}"} for n in range(many)])
    login(client, user)

    for url, msgid, count in [("/accounts/", "%(num)s account", "25.001"),
                              ("/contacts/", "%(num)s contact", "1.234"),
                              ("/tasks/", "%(num)s task", "1.234")]:
        plural = _dutch(msgid)[1]
        for headers in ({}, {"HX-Request": "true"}):  # the page and its results fragment
            text = text_of(client.get(url, headers=headers))
            assert plural.replace("%(num)s", count) in text, (url, headers)
            assert count.replace(".", "") not in text, (url, headers)

    # The page numbers of the list are numbers too: "Pagina 1.001 van 1.001".
    text = text_of(client.get("/accounts/?page=1001"))
    assert _dutch("Page %(page)s of %(pages)s").replace("%(page)s", "1.001").replace(
        "%(pages)s", "1.001") in text

    # In English the same list reads "25,001 accounts".
    user.language = "en"
    user.save()
    assert "25,001 accounts" in text_of(client.get("/accounts/"))
