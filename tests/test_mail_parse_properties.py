"""Property tests: the parser never raises, whatever bytes arrive, and what it returns keeps
its promises (ids without < > or whitespace, lower-case addresses, no naive future date)."""
import base64
import datetime
import hashlib
from email import policy
from email.parser import BytesParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from mail.parse import ParsedMessage, decode_header_text, parse_message, split_quoted

CORPUS = sorted((Path(__file__).parent / "mail_corpus").glob("*.eml"))
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Pieces that make the parser's life hard, for messages that look almost like mail.
HEADER_NAMES = st.sampled_from([
    "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Reply-To",
    "X-Original-From", "Delivered-To", "Auto-Submitted", "Thread-Index", "Content-ID",
    "X-Auto-Response-Suppress", "Precedence"])
TRICKY = st.sampled_from([
    b"=?utf-8?B?", b"=?x-unknown?Q?caf=E9?=", b"?=", b"<", b">", b"@", b",", b";", b'"',
    b"multipart/mixed; boundary=b", b"multipart/report; report-type=delivery-status",
    b"message/rfc822", b"message/delivery-status", b"base64", b"quoted-printable",
    b"\r\n", b"\n", b"\r\n ", b"--b", b"--b--", b"filename*0*=utf-8''%E2%82", b"\xff\xfe",
    b"\xc3", b"\x00", b"charset=utf-16", b"Action: failed", b"Status: 5.1.1",
    b"Final-Recipient: rfc822; x@y", b"Fri, 31 Dec 9999 23:59:59 +1400", b"-0000"])
CHUNK = st.one_of(st.binary(max_size=40), TRICKY, HEADER_NAMES.map(lambda n: n.encode() + b": "))


def check(parsed, raw):
    assert isinstance(parsed, ParsedMessage)
    assert parsed.content_hash == hashlib.sha256(raw).hexdigest()
    assert parsed.size == len(raw)
    for value in [parsed.message_id, parsed.in_reply_to, *parsed.references]:
        assert "<" not in value and ">" not in value and not any(c.isspace() for c in value)
    for address in [parsed.from_addr, *parsed.to_addrs, *parsed.cc_addrs]:
        assert address == address.lower()
    assert all("\n" not in s and "\r" not in s for s in (parsed.subject, parsed.from_name))
    if parsed.date is not None:
        assert parsed.date.tzinfo is None
        assert parsed.date < datetime.datetime.now() + datetime.timedelta(days=2)
    for attachment in parsed.attachments:
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.filename and not attachment.filename.startswith(".")
        assert (attachment.content is None) == attachment.oversized
    split_quoted(parsed.text)


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw):
    check(parse_message(raw), raw)


@SETTINGS
@given(st.lists(CHUNK, max_size=60))
def test_almost_mail_never_raises(chunks):
    raw = b"".join(chunks)
    check(parse_message(raw, max_attachment_bytes=64), raw)


@SETTINGS
@given(st.sampled_from(CORPUS), st.data())
def test_damaged_corpus_messages_never_raise(path, data):
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["insert", "delete", "truncate", "flip"]))
        if action == "insert":
            raw[position:position] = data.draw(st.one_of(TRICKY, st.binary(max_size=8)))
        elif action == "delete":
            del raw[position:position + data.draw(st.integers(1, 50))]
        elif action == "truncate":
            del raw[position:]
        elif raw and position < len(raw):
            raw[position] ^= data.draw(st.integers(1, 255))
    raw = bytes(raw)
    check(parse_message(raw, max_attachment_bytes=32), raw)


def winmail_dat(name):
    """The winmail.dat bytes in a corpus message."""
    message = BytesParser(policy=policy.compat32).parsebytes(
        (Path(__file__).parent / "mail_corpus" / name).read_bytes())
    return next(part.get_payload(decode=True) for part in message.walk()
                if part.get_content_type() == "application/ms-tnef")


TNEF_BLOBS = [winmail_dat(name) for name in ("tnef_files.eml", "tnef_rtf_only.eml",
                                             "tnef_html_only.eml")]


@SETTINGS
@given(st.sampled_from(TNEF_BLOBS), st.data())
def test_damaged_winmail_dat_never_raises_nor_gets_lost(blob, data):
    blob = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(blob)))
        action = data.draw(st.sampled_from(["insert", "delete", "truncate", "flip"]))
        if action == "insert":
            blob[position:position] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del blob[position:position + data.draw(st.integers(1, 50))]
        elif action == "truncate":
            del blob[position:]
        elif blob and position < len(blob):
            blob[position] ^= data.draw(st.integers(1, 255))
    raw = (b'From: a@b.nl\r\nContent-Type: multipart/mixed; boundary="tn"\r\n\r\n'
           b"--tn\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(bytes(blob)) + b"--tn--\r\n")
    parsed = parse_message(raw)
    check(parsed, raw)
    assert parsed.error == ""
    # Either winmail.dat stays as it came, or what was read from it is there.
    kept = [a for a in parsed.attachments if a.filename == "winmail.dat"]
    assert (kept and kept[0].content == bytes(blob)) or parsed.attachments or parsed.text


@SETTINGS
@given(st.text(max_size=300))
def test_header_decoding_and_quote_splitting_never_raise(text):
    decoded = decode_header_text(text)
    assert "\n" not in decoded and "\r" not in decoded
    new, quoted = split_quoted(text)
    assert isinstance(new, str) and isinstance(quoted, str)
