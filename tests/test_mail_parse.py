"""The inbound parser against the bad-input corpus (tests/mail_corpus/, see its README):
every message reads without an exception, and what it says comes out right."""
import base64
import datetime
import hashlib
import os
import tracemalloc
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from mail.parse import (MAX_ATTACHMENT_BYTES, decode_header_text, message_ids, parse_message,
                        safe_filename, split_quoted)

CORPUS = Path(__file__).parent / "mail_corpus"
NOW = datetime.datetime(2026, 6, 2, 12, 0)


def corpus(name):
    return (CORPUS / name).read_bytes()


def parse(name, **options):
    options.setdefault("now", NOW)
    return parse_message(corpus(name), **options)


def test_every_corpus_message_parses_without_error():
    names = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert len(names) >= 35
    for name in names:
        parsed = parse(name)
        assert parsed.error == "", name
        assert parsed.content_hash == hashlib.sha256(corpus(name)).hexdigest()
        assert parsed.size == len(corpus(name))


# --- charsets ---------------------------------------------------------------------------

def test_utf8_body_declared_as_latin1_is_read_as_utf8():
    assert parse("charset_wrong.eml").text == "Met vriendelijke groet, Grüße aus Köln — €50"


def test_unknown_charset_falls_back_in_body_and_subject():
    parsed = parse("charset_unknown.eml")
    assert parsed.text == "Prijs: 12,50 € per stuk, café"
    assert parsed.subject == "Unknown charset café"


def test_missing_charset_with_cp1252_bytes():
    assert parse("charset_missing.eml").text == "Café crème, 20€ per doos"


def test_raw_8bit_bytes_in_headers_utf8_and_latin1():
    parsed = parse("header_8bit.eml")
    assert parsed.subject == "Προσφορά για τα ψωμιά"
    assert parsed.from_name == "Σοφία Παπαδοπούλου"
    assert parsed.from_addr == "sofia@example.gr"
    assert parsed.to_addrs == ["sales@example.com"]
    assert parsed.text == "Καλημέρα σας"


# --- RFC 2047 and RFC 2231 ----------------------------------------------------------------

def test_encoded_words_split_inside_a_character():
    parsed = parse("rfc2047_split.eml")
    assert parsed.subject == "Offerte für Brötchen – Grüße"
    assert parsed.from_name == "Jürgen Müller"
    assert parsed.from_addr == "juergen@baeckerei-mueller.de"


def test_malformed_encoded_words_keep_what_can_be_read():
    parsed = parse("rfc2047_malformed.eml")
    # An unterminated word stays literal; missing base64 padding and unknown charsets decode.
    assert parsed.subject == "=?utf-8?Q?Half_open_word and Broken paddingcafé"
    assert parsed.from_name == "Anna de Vries"
    assert parsed.to_addrs == ["sales@example.com"]


def test_decode_header_text_edge_cases():
    assert decode_header_text("=?utf-8?q?caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?=") == "café crème"
    assert decode_header_text("=?UTF-8*nl?Q?taart?=") == "taart"      # RFC 2231 language
    assert decode_header_text("line\r\n\tbreak\x00here") == "line break here"
    assert decode_header_text("") == ""


def test_rfc2231_filenames_continuations_charsets_and_paths():
    names = [(a.filename, a.content_type) for a in parse("rfc2231_filename.eml").attachments]
    assert names == [("Bestelling Brötchen – juni.pdf", "application/pdf"),
                     ("prijzen café.csv", "text/csv"),
                     ("passwd", "application/octet-stream")]


def test_safe_filename():
    assert safe_filename("..\\..\\windows\\evil.exe") == "evil.exe"
    assert safe_filename(".htaccess") == "htaccess"
    assert safe_filename('a<b>:"c|?*.txt') == "a_b_c_.txt"
    assert safe_filename("bad\x00name\r\n.pdf") == "badname.pdf"
    assert safe_filename("", "image/png", 3) == "attachment-3.png"
    long = safe_filename("x" * 400 + ".pdf")
    assert len(long) == 150 and long.endswith(".pdf")


# --- bodies -------------------------------------------------------------------------------

def test_html_only_gets_a_text_version():
    parsed = parse("html_only.eml")
    assert parsed.html.startswith("<html>")
    assert parsed.text == "Beste Sales,\n\nGraag 200 broden & 50 taarten.\n\nGroet,\nAnna"


def test_empty_body_and_empty_subject():
    parsed = parse("empty_body.eml")
    assert (parsed.text, parsed.html, parsed.subject, parsed.attachments) == ("", "", "", [])


def test_broken_alternative_parts():
    parsed = parse("alternative_broken.eml")
    # "base64" that is not: the text as it came; quoted-printable soft breaks joined.
    assert parsed.text == ("This is !!! not base64 at all ===\n"
                           "Soft line break and a bad =ZZ escape")
    assert parsed.html == "<p>The HTML part still says hello</p>"


def test_missing_closing_boundary_keeps_text_and_attachment():
    parsed = parse("missing_boundary.eml")
    assert parsed.text == "The text before the attachment."
    [pdf] = parsed.attachments
    assert (pdf.filename, pdf.content, pdf.size) == ("order.pdf", b"%PDF-1.4\n", 9)


def test_forwarded_message_is_an_attachment_named_by_its_subject():
    parsed = parse("forward_rfc822.eml")
    assert parsed.text == "See below, forwarded from our shop."
    [forwarded] = parsed.attachments
    assert forwarded.filename == "Klacht over levering – juni.eml"
    assert forwarded.content_type == "message/rfc822"
    inner = parse_message(forwarded.content)
    assert inner.message_id == "inner@bakkerij-devries.nl"
    assert inner.text == "The bread arrived late."
    # The forwarded message's ids are not this message's thread.
    assert parsed.references == [] and parsed.in_reply_to == ""


def test_a_tnef_too_short_to_read_is_kept_as_winmail_dat():
    # winmail_tnef.eml's blob is cut off after a few attributes: nothing in it can be opened.
    [tnef] = parse("winmail_tnef.eml").attachments
    assert (tnef.filename, tnef.content_type) == ("winmail.dat", "application/ms-tnef")
    assert tnef.content.startswith(b"\x78\x9f\x3e\x22")     # the TNEF signature
    assert tnef.size == len(tnef.content)


def tnef_blob(name):
    """The winmail.dat bytes in a corpus message."""
    message = BytesParser(policy=policy.compat32).parsebytes(corpus(name))
    [blob] = [part.get_payload(decode=True) for part in message.walk()
              if part.get_content_type() == "application/ms-tnef"]
    return blob


def with_tnef(blob, text=None):
    """A message with `blob` as its winmail.dat, after a text/plain part when `text`."""
    body = f"--tn\r\nContent-Type: text/plain\r\n\r\n{text}\r\n" if text is not None else ""
    return ("From: joris@janssen-metaal.be\r\nSubject: PO\r\n"
            'Content-Type: multipart/mixed; boundary="tn"\r\n\r\n' + body
            + "--tn\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() \
        + base64.encodebytes(blob) + b"--tn--\r\n"


def test_tnef_files_become_attachments_and_its_text_the_body():
    parsed = parse("tnef_files.eml")
    assert parsed.error == ""
    assert parsed.text == ("Beste Sales,\n\nIn de bijlage onze inkooporder 118 (totaal € 1.250)."
                           "\n\nMet vriendelijke groet,\nJoris")
    pdf, csv = parsed.attachments
    # The long name was a Windows path: only its last part is kept.
    assert (pdf.filename, pdf.content_type) == ("Inkooporder 118 – juni.pdf", "application/pdf")
    assert pdf.content.startswith(b"%PDF-1.4\n") and pdf.content.endswith(b"%%EOF\n")
    assert pdf.size == len(pdf.content) == 142
    # No long name nor type in the TNEF: the short title, and the type from its extension.
    assert (csv.filename, csv.content_type) == ("prijzen.csv", "text/csv")
    assert csv.content == b"artikel;prijs\r\nbrood;2,50\r\ntaart;12,00\r\n"
    assert not any(a.filename == "winmail.dat" for a in parsed.attachments)


def test_tnef_body_gives_way_to_the_messages_own_text():
    parsed = parse_message(with_tnef(tnef_blob("tnef_files.eml"), text="See the order."))
    assert parsed.text == "See the order."
    assert [a.filename for a in parsed.attachments] == ["Inkooporder 118 – juni.pdf",
                                                        "prijzen.csv"]


def test_tnef_html_body_when_it_has_no_text():
    parsed = parse("tnef_html_only.eml")
    assert parsed.html == ("<html><body><p>Graag 40 pallets, levering maandag.</p>"
                           "<p>Grüße, Joris</p></body></html>")
    assert parsed.text == "Graag 40 pallets, levering maandag.\n\nGrüße, Joris"
    assert parsed.attachments == []


def test_tnef_rtf_only_body_is_kept_as_an_rtf_attachment():
    parsed = parse("tnef_rtf_only.eml")
    assert (parsed.text, parsed.html) == ("", "")
    [rtf] = parsed.attachments
    assert (rtf.filename, rtf.content_type) == ("message.rtf", "application/rtf")
    # Decompressed (MS-OXRTFCP's own example), not converted to text.
    assert rtf.content == b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
    assert rtf.size == len(rtf.content)
    # Beside a text of the message's own the RTF body is not needed.
    parsed = parse_message(with_tnef(tnef_blob("tnef_rtf_only.eml"), text="Delivery Monday."))
    assert (parsed.text, parsed.attachments) == ("Delivery Monday.", [])


def test_tnef_cut_short_is_kept_as_winmail_dat():
    parsed = parse("tnef_truncated.eml")
    assert parsed.error == ""
    assert parsed.text == "Our purchase order is attached."
    [tnef] = parsed.attachments
    assert (tnef.filename, tnef.content_type) == ("winmail.dat", "application/ms-tnef")
    assert tnef.content == tnef_blob("tnef_truncated.eml")


@pytest.mark.parametrize("blob", [b"", b"not TNEF at all", b"\x78\x9f\x3e\x22\x01\x00",
                                  b"\x78\x9f\x3e\x22\x01\x00" + b"\xff" * 40])
def test_unreadable_tnef_is_kept_as_winmail_dat(blob):
    parsed = parse_message(with_tnef(blob, text="Order attached."))
    assert parsed.error == ""
    assert parsed.text == "Order attached."
    assert [(a.filename, a.content) for a in parsed.attachments] == [("winmail.dat", blob)]


def test_tnef_with_a_bad_checksum_keeps_winmail_dat_beside_its_files():
    blob = bytearray(tnef_blob("tnef_files.eml"))
    csv_at = blob.index(b"artikel;prijs")
    blob[csv_at] ^= 0x20                    # "Artikel": the CSV's checksum no longer matches
    parsed = parse_message(with_tnef(bytes(blob)))
    assert [a.filename for a in parsed.attachments] == ["winmail.dat",
                                                        "Inkooporder 118 – juni.pdf",
                                                        "prijzen.csv"]
    assert parsed.attachments[0].content == bytes(blob)
    assert parsed.attachments[2].content.startswith(b"Artikel;prijs")


def test_tnef_larger_than_the_limit_is_not_opened():
    blob = tnef_blob("tnef_files.eml")
    [tnef] = parse_message(with_tnef(blob), max_attachment_bytes=len(blob) - 1).attachments
    assert (tnef.filename, tnef.oversized, tnef.content) == ("winmail.dat", True, None)


def test_inline_cid_image():
    parsed = parse("inline_cid.eml")
    assert 'src="cid:logo.123@bakkerij-devries.nl"' in parsed.html
    [image] = parsed.attachments
    assert image.inline_cid == "logo.123@bakkerij-devries.nl"
    assert image.content_type == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert image.filename.endswith(".png")


def test_html_with_script_is_kept_raw_and_its_text_has_no_script():
    parsed = parse("html_script.eml")
    # Sanitising is the display's job: the parser keeps the HTML as sent.
    assert "<script>" in parsed.html and "onerror=" in parsed.html
    assert "javascript:alert(2)" in parsed.html
    assert parsed.text == "Hello\n\nOpen the order\nReal link"
    assert "alert" not in parsed.text and "cookie" not in parsed.text


# --- ids and dates ------------------------------------------------------------------------

def test_missing_message_id():
    parsed = parse("no_message_id.eml")
    assert parsed.message_id == ""
    assert len(parsed.content_hash) == 64


def test_same_message_id_different_content_differs_by_hash():
    a, b = parse("same_id_a.eml"), parse("same_id_b.eml")
    assert a.message_id == b.message_id == "reused-id@bakkerij-devries.nl"
    assert a.content_hash != b.content_hash
    assert a.text != b.text


def test_ids_with_stray_whitespace_and_folding():
    parsed = parse("id_whitespace.eml")
    assert parsed.message_id == "spaced-id@bakkerij-devries.nl"
    assert parsed.in_reply_to == "q7.5f2a@example.com"
    assert parsed.references == ["older@bakkerij-devries.nl", "q7.5f2a@example.com"]
    assert parsed.thread_ids == ["q7.5f2a@example.com", "older@bakkerij-devries.nl"]


def test_message_ids_helper():
    assert message_ids("<a@b> <c@d>\r\n <a@b>") == ["a@b", "c@d"]
    assert message_ids("bare@id.example") == ["bare@id.example"]
    assert message_ids("no id here") == []


def test_references_list_of_100_ids_all_kept_in_order():
    parsed = parse("references_100.eml")
    assert len(parsed.references) == 100
    assert parsed.references[0] == "ref001.thread@bakkerij-devries.nl"
    assert parsed.references[-1] == "q7.5f2a@example.com"
    assert parsed.thread_ids[0] == "q7.5f2a@example.com"


def test_dates_utc_missing_and_future():
    assert parse("charset_wrong.eml").date == datetime.datetime(2026, 6, 2, 7, 15)
    assert parse("date_missing.eml").date is None
    assert parse("date_future.eml").date is None
    # Within a day of now (clock skew) a date is kept.
    skewed = corpus("date_future.eml").replace(b"Fri, 01 Jan 2100 10:00:00 +0000",
                                               b"Tue, 02 Jun 2026 20:00:00 +0000")
    assert parse_message(skewed, now=NOW).date == datetime.datetime(2026, 6, 2, 20, 0)


# --- size limits --------------------------------------------------------------------------

def big_message(size):
    data = os.urandom(size)
    return (b"From: anna@bakkerij-devries.nl\r\nSubject: Drawings\r\n"
            b"Message-ID: <big@bakkerij-devries.nl>\r\n"
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
            b"--x\r\nContent-Type: text/plain\r\n\r\nThe drawings.\r\n"
            b"--x\r\nContent-Type: application/zip\r\n"
            b"Content-Disposition: attachment; filename=drawings.zip\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(data).replace(b"\n", b"\r\n")
            + b"--x\r\nContent-Type: text/plain; name=after.txt\r\n"
            b"Content-Disposition: attachment; filename=after.txt\r\n\r\nafter\r\n--x--\r\n"), data


def test_25_mb_attachment_is_not_held_in_memory():
    raw, data = big_message(MAX_ATTACHMENT_BYTES + 1000)
    del data
    tracemalloc.start()
    try:
        parsed = parse_message(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parsed.error == ""
    assert parsed.text == "The drawings."
    big, after = parsed.attachments
    assert (big.filename, big.oversized, big.content) == ("drawings.zip", True, None)
    assert abs(big.size - (MAX_ATTACHMENT_BYTES + 1000)) < 100
    assert (after.filename, after.content) == ("after.txt", b"after")
    # Far less than the 34 MB of encoded text, let alone the decoded 25 MB.
    assert peak < 5 * 1024 * 1024


def test_attachment_under_a_raised_limit_is_kept_whole():
    raw, data = big_message(3 * 1024 * 1024)
    assert parse_message(raw, max_attachment_bytes=1024 * 1024).attachments[0].oversized
    kept = parse_message(raw, max_attachment_bytes=4 * 1024 * 1024).attachments[0]
    assert (kept.oversized, kept.content) == (False, data)


def test_header_line_of_10000_characters():
    subject = "Offerte " + "x" * 10000
    raw = ("From: anna@bakkerij-devries.nl\r\nTo: sales@example.com\r\n"
           f"Subject: {subject}\r\nX-Junk: {'ab ' * 3400}\r\n"
           "Message-ID: <long@bakkerij-devries.nl>\r\n\r\nBody\r\n").encode()
    parsed = parse_message(raw)
    assert parsed.error == ""
    assert parsed.subject == subject
    assert parsed.message_id == "long@bakkerij-devries.nl"
    assert parsed.text == "Body"


def test_nothing_readable_says_why():
    assert parse_message(b"").error == "The message is empty."
    assert parse_message(b"\x00\xff\xfe").error == "The message has no headers."
    assert parse_message("not bytes").content_hash == hashlib.sha256(b"not bytes").hexdigest()


# --- senders, recipients and tokens -------------------------------------------------------

def test_google_groups_rewritten_from_uses_the_original_sender():
    parsed = parse("google_groups.eml")
    assert (parsed.from_name, parsed.from_addr) == ("Anna de Vries", "anna@bakkerij-devries.nl")


def test_rewritten_from_without_x_original_from_uses_reply_to():
    raw = corpus("google_groups.eml")
    raw = b"\r\n".join(line for line in raw.split(b"\r\n")
                       if not line.startswith((b"X-Original-", b"X-Original-Sender")))
    parsed = parse_message(raw)
    assert parsed.from_addr == "anna@bakkerij-devries.nl"
    assert parsed.from_name == "Anna de Vries"


def test_addresses_are_lower_case_and_envelope_headers_read():
    raw = (b"From: Anna <Anna@Bakkerij-DeVries.NL>\r\nTo: a@x.nl, \"Jansen, B\" <B@X.nl>\r\n"
           b"Cc: c@x.nl\r\nDelivered-To: sales+Q-2026-0009@example.com\r\n"
           b"X-Original-To: orders@example.com\r\n\r\nHi\r\n")
    parsed = parse_message(raw)
    assert parsed.from_addr == "anna@bakkerij-devries.nl"
    assert parsed.to_addrs == ["a@x.nl", "b@x.nl"]
    assert parsed.cc_addrs == ["c@x.nl"]
    assert parsed.delivered_to == ["sales+q-2026-0009@example.com", "orders@example.com"]
    assert parsed.plus_tokens == ["q-2026-0009"]


def test_tokens_from_plus_address_and_subject():
    assert parse("plus_token.eml").plus_tokens == ["q-2026-0007"]
    subject = parse("subject_token.eml")
    assert subject.subject_tokens == ["q-2026-0007"]        # revision -2 is not part of it
    assert subject.plus_tokens == []
    assert subject.tokens == ["q-2026-0007"]
    assert parse("subject_lost_token.eml").tokens == []
    # A plus-address that is no document token is no token.
    parsed = parse_message(b"From: a@b.nl\r\nTo: sales+newsletter@example.com\r\n"
                           b"Subject: [urgent] Q-2026-0007 without brackets\r\n\r\nx")
    assert parsed.tokens == []


def test_outlook_thread_index_kept():
    parsed = parse("outlook_thread_index.eml")
    assert parsed.thread_index == "AdqOwxTbq0F7s2nXQm6mYl1hE5a1XwAAE3Kg"
    assert parsed.references == []
    assert parsed.in_reply_to == "q8.77aa@example.com"


def test_a_persons_mail_is_not_automatic():
    for name in ("plus_token.eml", "colleague_reply.eml", "google_groups.eml",
                 "quoted_outlook.eml", "subject_lost_token.eml"):
        assert parse(name).auto_reason == "", name
        assert parse(name).bounce is None, name


# --- automatic mail -----------------------------------------------------------------------

def test_rfc3834_out_of_office():
    assert parse("ooo_rfc3834.eml").auto_reason == "Auto-Submitted: auto-replied"


def test_exchange_out_of_office():
    assert "X-Auto-Response-Suppress" in parse("ooo_exchange.eml").auto_reason


@pytest.mark.parametrize("header, reason", [
    ("X-Autoreply: yes", "X-Autoreply"),
    ("X-Autorespond: Vacation", "X-Autorespond"),
    ("Precedence: bulk", "Precedence: bulk"),
    ("Precedence: auto_reply", "Precedence: auto_reply"),
    ("Auto-Submitted: no", ""),
])
def test_other_automatic_signs(header, reason):
    raw = f"From: a@b.nl\r\nSubject: Hello\r\n{header}\r\n\r\nx".encode()
    assert parse_message(raw).auto_reason == reason


@pytest.mark.parametrize("subject", ["Out of Office: Quote", "Automatic reply: Quote",
                                     "Risposta automatica: Preventivo",
                                     "Αυτόματη απάντηση: Προσφορά", "Afwezig: offerte"])
def test_out_of_office_subjects_as_last_resort(subject):
    raw = f"From: a@b.nl\r\nSubject: {subject}\r\n\r\nx".encode()
    assert parse_message(raw).auto_reason == "Out-of-office subject"


def test_hard_bounce():
    parsed = parse("dsn_hard.eml")
    assert parsed.bounce.status == "5.1.1"
    assert parsed.bounce.permanent is True
    assert parsed.bounce.recipients == ["anna@bakkerij-devries.nl"]


def test_soft_bounce():
    parsed = parse("dsn_soft.eml")
    assert parsed.bounce.status == "4.2.2"
    assert parsed.bounce.permanent is False
    assert parsed.bounce.recipients == ["anna@bakkerij-devries.nl"]


def test_successful_delivery_report_is_no_bounce():
    raw = corpus("dsn_hard.eml").replace(b"Action: failed", b"Action: delivered") \
        .replace(b"Status: 5.1.1", b"Status: 2.0.0")
    assert parse_message(raw).bounce is None


def test_own_sent_copy_reads_as_ours():
    parsed = parse("own_copy.eml")
    assert parsed.message_id == "q7.5f2a@example.com"
    assert parsed.from_addr == "sales@example.com"


# --- quoted history -----------------------------------------------------------------------

def test_gmail_quote_split_from_the_new_text():
    parsed = parse("quoted_gmail.eml")
    new, quoted = split_quoted(parsed.text)
    assert new == "Yes, please deliver on Monday.\n\nAnna"
    assert quoted.startswith("On Mon, 1 Jun 2026 at 10:00, Example Sales <sales@example.com>\n"
                             "wrote:")
    assert quoted.endswith("> Please find our quote attached.\n>")
    # The parser itself keeps the whole text; folding is the display's business.
    assert "> Dear Anna," in parsed.text


def test_outlook_quote_split_from_the_new_text():
    new, quoted = split_quoted(parse("quoted_outlook.eml").text)
    assert new == "Hi,\n\nWe will order 40 pallets.\n\nKind regards,\nJoris"
    assert quoted.startswith("________________________________\nFrom: Example Sales")
    assert quoted.endswith("Please find our quote attached.")


@pytest.mark.parametrize("header", [
    "Op di 2 jun. 2026 om 10:00 schreef Sales <sales@example.com>:",
    "Il giorno mar 2 giu 2026 alle ore 10:00 Sales <sales@example.com> ha scritto:",
    "Στις Τρί, 2 Ιουν 2026 στις 10:00, ο/η Sales <sales@example.com> έγραψε:",
    "Am Di., 2. Juni 2026 um 10:00 Uhr schrieb Sales <sales@example.com>:",
    "-----Original Message-----",
    "-----Oorspronkelijk bericht-----",
])
def test_quote_headers_in_other_languages(header):
    text = f"Akkoord.\n\n{header}\n> Offerte 7\n"
    assert split_quoted(text) == ("Akkoord.", f"{header}\n> Offerte 7")


def test_outlook_block_in_dutch():
    text = "Prima.\n\nVan: Sales <sales@example.com>\nVerzonden: maandag 1 juni 2026 10:00\n" \
           "Aan: Joris\nOnderwerp: Offerte\n\nBeste Joris"
    new, quoted = split_quoted(text)
    assert new == "Prima."
    assert quoted.startswith("Van: Sales")


def test_trailing_angle_quote_lines():
    assert split_quoted("Yes.\n\n> Do you want it?\n> Sure?\n") == \
        ("Yes.", "> Do you want it?\n> Sure?")


def test_no_quote_and_inline_answers_are_left_alone():
    assert split_quoted("Just a message.\nOn Monday I wrote: nothing") == \
        ("Just a message.\nOn Monday I wrote: nothing", "")
    inline = "> Price?\n12 euro.\n> Delivery?\nMonday."
    assert split_quoted(inline) == (inline, "")
    # Only quoted text and nothing new: show all of it.
    assert split_quoted("> just a quote") == ("> just a quote", "")
    assert split_quoted("") == ("", "")
