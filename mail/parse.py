"""Reading one inbound message: untrusted bytes in, a ParsedMessage out — never an exception.

Mail in the wild breaks every rule: wrong or unknown charsets, raw 8-bit bytes in headers,
encoded words split in the middle of a character, missing closing boundaries, ids with
stray whitespace, dates in the future. `parse_message` reads what can be read and says in
`error` why the rest could not; the caller keeps the raw bytes either way.

Structure comes from the standard library (`email.parser.BytesParser`) with `_READING`, a
compat32 policy that reads MIME parameters (types, filenames, charsets, boundaries) exactly as
`policy.default` would, but builds no header objects for anything else; header text is
decoded here, from the raw header values, because the library either raises on malformed
headers or turns raw UTF-8 into replacement characters: 8-bit bytes are read as UTF-8, else
cp1252; RFC 2047 words are joined per charset before decoding (a character split over two
words survives), unknown charsets fall back the same way.

Long base64 bodies are cut out of the bytes before the library splits them into lines and
put back afterwards (it is slow at that); attachments larger than `MAX_ATTACHMENT_BYTES` are
not put back nor decoded at all: `content=None`, `oversized=True`, their size estimated from
the encoded text.

Outlook's TNEF (`winmail.dat`) is opened with tnefparse: the files inside become ordinary
attachments and its body (plain text, else HTML, else RTF kept as `message.rtf`) counts when
the message has no other. A winmail.dat that does not read cleanly stays as it came.
The HTML body is returned raw: sanitising is the display's job.
"""
import base64
import binascii
import codecs
import datetime
import hashlib
import html as html_lib
import mimetypes
import os
import quopri
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

import tnefparse

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
FUTURE_TOLERANCE = datetime.timedelta(days=1)

# A document token: Q-2026-0007, with an optional revision (-2) that is not part of it.
TOKEN = re.compile(r"(?<![a-z0-9])([a-z]{1,4}-\d{4}-\d{2,})(?:-\d{1,3})?(?![a-z0-9])", re.I)
SUBJECT_TOKEN = re.compile(r"\[\s*([a-z]{1,4}-\d{4}-\d{2,})(?:-\d{1,3})?\s*\]", re.I)
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
ANGLE_IDS = re.compile(r"<([^<>]*)>")
ENVELOPE_HEADERS = ("delivered-to", "x-original-to", "x-delivered-to", "envelope-to",
                    "x-envelope-to", "x-rcpt-to")
OOO_SUBJECTS = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[ -]?reply|autoreply|auto:|"
    r"abwesenheit|automatische antwort|afwezig|automatisch antwoord|niet aanwezig|"
    r"risposta automatica|fuori sede|fuori ufficio|assente|"
    r"αυτόματη απάντηση|εκτός γραφείου|réponse automatique|absence)", re.I)
WESTERN_SINGLE_BYTE = {"ascii", "iso8859-1", "iso8859-15", "cp1252"}   # codecs' names
BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]*")


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    size: int
    content: bytes | None
    oversized: bool = False
    inline_cid: str | None = None


@dataclass
class Bounce:
    status: str                 # the RFC 3464 status of the first failed recipient: 5.1.1
    recipients: list[str]       # the addresses that failed (or were delayed)
    permanent: bool             # 5.x.x: the address is bad; 4.x.x: it may still arrive


@dataclass
class ParsedMessage:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_addr: str = ""
    reply_to: list[str] = field(default_factory=list)
    to_addrs: list[str] = field(default_factory=list)
    cc_addrs: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    date: datetime.datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reason: str = ""
    bounce: Bounce | None = None
    thread_index: str = ""
    plus_tokens: list[str] = field(default_factory=list)
    subject_tokens: list[str] = field(default_factory=list)
    content_hash: str = ""
    error: str = ""
    size: int = 0

    @property
    def tokens(self):
        """Every document token found, plus-address ones first, each once."""
        return list(dict.fromkeys(self.plus_tokens + self.subject_tokens))

    @property
    def thread_ids(self):
        """The ids this message answers, most recent first: In-Reply-To, then References."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + self.references[::-1]
        return list(dict.fromkeys(ids))


def parse_message(raw, max_attachment_bytes=MAX_ATTACHMENT_BYTES, now=None):
    """The message in `raw` (bytes), read as far as it can be; never raises."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raw = str(raw or "").encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    parsed = ParsedMessage(content_hash=hashlib.sha256(raw).hexdigest(), size=len(raw))
    try:
        skeleton, cut = _cut_base64_runs(raw)
        message = BytesParser(policy=_READING).parsebytes(skeleton)
        del skeleton
        elided = _put_back(message, raw, cut, max_attachment_bytes)
    except Exception as error:  # noqa: BLE001 — the raw bytes are kept; say why
        parsed.error = f"The message could not be read: {type(error).__name__}: {error}"
        return parsed
    options = _Options(max_attachment_bytes, now, elided)
    steps = (_read_headers, _read_addresses, _read_body, _read_automatic)
    problems = []
    for step in steps:
        try:
            step(message, parsed, options)
        except Exception as error:  # noqa: BLE001 — one broken part must not lose the rest
            problems.append(f"{step.__name__.strip('_').replace('_', ' ')}: "
                            f"{type(error).__name__}: {error}")
    if problems:
        parsed.error = "; ".join(problems)
    elif not raw or raw.isspace():
        parsed.error = "The message is empty."
    elif not message.keys():
        parsed.error = "The message has no headers."
    return parsed


@dataclass
class _Options:
    limit: int
    now: datetime.datetime | None
    elided: dict            # placeholder → decoded size of an oversized base64 body


_CUT_FROM = 4000            # characters: shorter runs of base64 the parser may split itself
_ELIDE_FROM = 10000         # characters: a shorter run is always put back, whatever the limit
# A run of base64 lines starting at a line's beginning (one flat character class: a
# repeated group would make the regex engine keep state per line).
_BASE64_RUN = re.compile(rb"(?<=\n)[A-Za-z0-9+/=][A-Za-z0-9+/=\r\n]{%d,}" % _CUT_FROM)
_ELIDED = "ACCOUNTABLE-OVERSIZED-PART-"


@dataclass
class _Cut:
    start: int              # the run is raw[start:end]: whole lines
    end: int
    size: int               # its decoded size, estimated


def _cut_base64_runs(raw):
    """The message with every long run of base64 lines replaced by a one-line placeholder,
    so the email module never splits (nor holds) them; {placeholder: _Cut}.

    A run is whole lines, none of them a header, a boundary or a line the parser reads
    otherwise, so the placeholder line stands where the run stood for the parser: in the
    same part, before the same boundary. (Empty lines inside a run only separate the
    blocks of a delivery report, which then has fewer blocks without headers.)"""
    cut, pieces, position = {}, [], 0
    # A placeholder the message itself does not contain.
    nonce = os.urandom(6).hex() + "-" if _ELIDED.encode() in raw else ""
    for run in _BASE64_RUN.finditer(raw):
        start, end = run.span()
        end = raw.rfind(b"\n", start, end) + 1
        if end - start < _CUT_FROM:
            continue
        line_ends = raw.count(b"\n", start, end) + raw.count(b"\r", start, end)
        key = f"{_ELIDED}{nonce}{len(cut)}-"
        cut[key] = _Cut(start, end, (end - start - line_ends) * 3 // 4)
        pieces += [raw[position:start], key.encode() + b"\n"]
        position = end
    if not cut:
        return raw, {}
    pieces.append(raw[position:])
    return b"".join(pieces), cut


def _put_back(message, raw, cut, limit):
    """Every cut run back where the parser put its placeholder (a payload, a preamble or an
    epilogue), as it would have left the run itself, except runs larger than `limit`;
    {placeholder: decoded size} of the ones left out."""
    elided = {key: c.size for key, c in cut.items()
              if c.size > limit and c.end - c.start > _ELIDE_FROM}
    if len(elided) == len(cut):
        return elided
    for part in message.walk():
        # _payload, not get_payload(): that one may re-decode 8-bit text on the way out.
        if isinstance(part._payload, str) and _ELIDED in part._payload:
            part.set_payload(_restored(part._payload, raw, cut, elided))
        for attribute in ("preamble", "epilogue"):
            text = getattr(part, attribute)
            if text and _ELIDED in text:
                setattr(part, attribute, _restored(text, raw, cut, elided))
    return elided


def _restored(text, raw, cut, elided):
    for key, run in cut.items():
        if key in elided or key not in text:
            continue
        lines = raw[run.start:run.end].decode("ascii")
        if key + "\n" in text:
            text = text.replace(key + "\n", lines, 1)
        elif text.endswith(key):
            # The parser gave the line end before a boundary to the boundary: so here.
            text = text[:-len(key)] + lines[:-2 if lines.endswith("\r\n") else -1]
    return text


# ---------------------------------------------------------------------------------------
# Headers

# A MIME header value the header registry would read to the same type and parameters:
# type/subtype; name=token; name="quoted" (no comments, RFC 2231 or 2047, escapes).
_TYPE = r"[A-Za-z0-9][A-Za-z0-9.+_-]*"
_PLAIN_MIME_VALUE = re.compile(
    rf"{_TYPE}(?:/{_TYPE})?(?:[ \t]*;[ \t]*[A-Za-z0-9][A-Za-z0-9._-]*="
    r"""(?:[A-Za-z0-9!#$%&+\-.^_`{|}~]+|"(?:[ !#-<>-\[\]-~]|=(?!\?))*"))*""")
_MIME_HEADERS = {"content-type", "content-disposition", "content-transfer-encoding"}
_LINE_BREAK = re.compile(r"\r|\n")


class _ReadingPolicy(policy.Compat32):
    """compat32, whose plain-string headers cost nothing, except where the email module
    reads MIME parameters itself (get_content_type, get_filename, get_param, boundaries):
    there it gets what policy.default would give it, so RFC 2231 and RFC 2047 parameters
    decode the same. Plain values are the same either way and skip the header registry."""
    message_factory = None          # set below, once _Part exists

    def header_fetch_parse(self, name, value):
        if name.lower() not in _MIME_HEADERS:
            return super().header_fetch_parse(name, value)
        value = _LINE_BREAK.sub("", value)
        if _PLAIN_MIME_VALUE.fullmatch(value):
            return value
        return policy.default.header_fetch_parse(name, value)


class _Part(Message):
    """A message or MIME part whose raw headers are indexed by name once, when first read."""
    _index = None

    def raw_values(self, name):
        """The raw (undecoded, unfolded) values of every header called `name`."""
        if self._index is None:
            self._index = {}
            for key, value in self.raw_items():
                if not isinstance(value, str):
                    value = str(value)
                unfolded = re.sub(r"\r?\n(?=[ \t])", "", value)
                self._index.setdefault(key.lower(), []).append(
                    unfolded.replace("\r", "").replace("\n", ""))
        return self._index.get(name.lower(), [])


_ReadingPolicy.message_factory = _Part
_READING = _ReadingPolicy()


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def header_message_id(raw):
    """The first Message-ID of `raw`, read exactly as `parse_message` reads it but from the
    header block alone: the poller keys every message by it before the full parse."""
    end = _BLANK_LINE.search(raw)
    head = raw[:end.end()] if end else raw      # odd line ends: let the parser find the end
    try:
        headers = BytesHeaderParser(policy=_READING).parsebytes(head)
        ids = message_ids(_raw(headers, "message-id"))
    except Exception:  # noqa: BLE001 — unreadable: keyed by content instead
        return ""
    return ids[0] if ids else ""


def _raw_values(message, name):
    """The raw (undecoded, unfolded) values of every header called `name`."""
    return message.raw_values(name)


def _raw(message, name):
    values = _raw_values(message, name)
    return values[0] if values else ""


def bytes_to_text(data, charset=None):
    """Bytes as text: in `charset` when it is known and fits, else UTF-8, else cp1252."""
    charset = _charset(charset)
    if charset and charset not in ("utf-8", "utf8"):
        try:
            text = data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            # A single-byte western charset declared on bytes that are valid UTF-8 with
            # non-ASCII characters: the declaration is wrong, the bytes are UTF-8.
            if charset in WESTERN_SINGLE_BYTE and not data.isascii():
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    pass
            return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _charset(charset):
    if not charset:
        return None
    charset = str(charset).strip().strip('"').lower()
    if charset in ("unknown-8bit", "x-unknown", "8bit", "default"):
        return None
    try:
        return codecs.lookup(charset).name
    except (LookupError, ValueError):
        return None


def decode_header_text(value):
    """A header value as text: raw 8-bit bytes and RFC 2047 words decoded, tolerantly."""
    if not value:
        return ""
    if not value.isascii():
        # Raw 8-bit bytes the parser kept as surrogates (text already decoded stays as is).
        try:
            value = bytes_to_text(value.encode("ascii", "surrogateescape"))
        except UnicodeEncodeError:
            pass
    pieces = []            # (charset or None, bytes or str)
    position = 0
    for word in ENCODED_WORD.finditer(value):
        between = value[position:word.start()]
        # Whitespace between two encoded words is not part of the text (RFC 2047, 6.2).
        if between and not (pieces and pieces[-1][0] is not None and not between.strip()):
            pieces.append((None, between))
        charset, encoding, text = word.group(1), word.group(2).lower(), word.group(3)
        charset = charset.split("*", 1)[0]          # RFC 2231 language suffix
        pieces.append((charset.lower(), _decode_word(encoding, text)))
        position = word.end()
    if position < len(value):
        pieces.append((None, value[position:]))
    # Join adjacent words of one charset before decoding: a character may be split.
    result = []
    for charset, chunk in pieces:
        if charset is not None and result and result[-1][0] == charset:
            result[-1] = (charset, result[-1][1] + chunk)
        else:
            result.append((charset, chunk))
    text = "".join(chunk if charset is None else bytes_to_text(chunk, charset)
                   for charset, chunk in result)
    return _printable(text)


def _decode_word(encoding, text):
    if encoding == "b":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        if len(cleaned) % 4 == 1:
            cleaned = cleaned[:-1]          # a stray character no padding can complete
        try:
            return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    return quopri.decodestring(text.replace("_", " ").encode("ascii", "replace"), header=True)


def _printable(text):
    """No control characters (line breaks, NUL, escape) in a one-line value."""
    if not text.isprintable():      # printable text has none: skip the look at each one
        text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in text)
    return " ".join(text.split())


def message_ids(value):
    """The ids in a Message-ID, In-Reply-To or References value: without < > or whitespace,
    in order, each once. Text outside angle brackets counts only when there are none."""
    if not value:
        return []
    found = ANGLE_IDS.findall(value)
    if not found:
        found = [v for v in re.split(r"[\s,]+", value) if "@" in v]
    ids = ("".join(c for c in i if not c.isspace() and c not in "<>"
                   and unicodedata.category(c)[0] != "C") for i in found)
    return [i for i in dict.fromkeys(ids) if i and len(i) <= 500]


def _read_headers(message, parsed, options):
    ids = message_ids(_raw(message, "message-id"))
    parsed.message_id = ids[0] if ids else ""
    reply_ids = message_ids(_raw(message, "in-reply-to"))
    parsed.in_reply_to = reply_ids[0] if reply_ids else ""
    parsed.references = message_ids(" ".join(_raw_values(message, "references")))
    parsed.subject = decode_header_text(_raw(message, "subject"))
    parsed.thread_index = "".join(_raw(message, "thread-index").split())[:200]
    parsed.subject_tokens = list(dict.fromkeys(
        t.lower() for t in SUBJECT_TOKEN.findall(parsed.subject)))
    parsed.date = _date(_raw(message, "date"), options.now)


def _date(value, now=None):
    value = decode_header_text(value)
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        except (OverflowError, ValueError):
            return None
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if moment > now + FUTURE_TOLERANCE or moment.year < 1970:
        return None
    return moment


# ---------------------------------------------------------------------------------------
# Addresses

def addresses(values):
    """[(name, address)] from raw header values: names decoded, addresses lower-case."""
    result = []
    if not values:
        return result
    try:
        pairs = getaddresses(values)
    except Exception:  # noqa: BLE001 — a pathological list: fall back to bare addresses
        pairs = [("", a) for v in values for a in re.findall(r"[^\s<>,;\"]+@[^\s<>,;\"]+", v)]
    for name, address in pairs:
        address = decode_header_text(address).strip().strip("<>").lower()
        if "@" not in address or " " in address:
            continue
        result.append((decode_header_text(name).strip().strip("'\""), address))
    return result


def _unique(addrs):
    return list(dict.fromkeys(addrs))


def _read_addresses(message, parsed, options):
    sender = addresses(_raw_values(message, "from"))
    name, address = sender[0] if sender else ("", "")
    reply_to = addresses(_raw_values(message, "reply-to"))
    parsed.reply_to = _unique(a for _, a in reply_to)
    # A mailing list (Google Groups) that rewrites From to itself names the real sender.
    original = addresses(_raw_values(message, "x-original-from")
                         or _raw_values(message, "x-original-sender"))
    rewritten = " via " in name or address.endswith(("@googlegroups.com", ".googlegroups.com"))
    if original:
        original_name, address = original[0]
        name = original_name or re.sub(r"^'?(.*?)'? via .*$", r"\1", name)
    elif rewritten and len(reply_to) == 1:
        address = reply_to[0][1]
        name = reply_to[0][0] or re.sub(r"^'?(.*?)'? via .*$", r"\1", name)
    parsed.from_name, parsed.from_addr = name, address
    parsed.to_addrs = _unique(a for _, a in addresses(_raw_values(message, "to")))
    parsed.cc_addrs = _unique(a for _, a in addresses(_raw_values(message, "cc")))
    envelope = []
    for header in ENVELOPE_HEADERS:
        envelope.extend(a for _, a in addresses(_raw_values(message, header)))
    parsed.delivered_to = _unique(envelope)
    plus = []
    for address in parsed.to_addrs + parsed.cc_addrs + parsed.delivered_to:
        local = address.rpartition("@")[0]
        if "+" in local:
            token = TOKEN.fullmatch(local.split("+", 1)[1])
            if token:
                plus.append(token.group(1).lower())
    parsed.plus_tokens = _unique(plus)


# ---------------------------------------------------------------------------------------
# Bodies and attachments

@dataclass
class _Bodies:
    """The bodies the walk over the parts finds: text and HTML parts, and winmail.dat's,
    which count only when there is no other."""
    texts: list = field(default_factory=list)
    htmls: list = field(default_factory=list)
    tnef: list = field(default_factory=list)       # _TnefBody


def _read_body(message, parsed, options):
    bodies = _Bodies()
    _walk(message, parsed, bodies, options, [0], depth=0)
    parsed.text = "\n".join(t for t in bodies.texts if t.strip()).strip("\n")
    parsed.html = bodies.htmls[0] if bodies.htmls else ""
    if not parsed.text.strip() and not parsed.html.strip() and bodies.tnef:
        _use_tnef_body(bodies.tnef[0], parsed, options)
    if not parsed.text.strip() and parsed.html:
        parsed.text = html_to_text(parsed.html)


def _walk(part, parsed, bodies, options, counter, depth):
    content_type = _content_type(part)
    if depth > 50:
        return
    if content_type == "message/delivery-status":
        parsed.bounce = _bounce(part) or parsed.bounce
        return
    if content_type.startswith("multipart/"):
        payload = part.get_payload()
        if isinstance(payload, list):
            for child in payload:
                _walk(child, parsed, bodies, options, counter, depth + 1)
        return
    if content_type == "message/rfc822" or (content_type.startswith("message/")
                                             and isinstance(part.get_payload(), list)):
        parsed.attachments.append(_forwarded(part, counter))
        return
    disposition = _disposition(part)
    filename = _filename(part)
    is_body_text = content_type in ("text/plain", "text/html") and disposition != "attachment" \
        and not filename and _elided_size(part, options) is None
    if is_body_text:
        text = _part_text(part)
        if content_type == "text/plain":
            bodies.texts.append(text)
        else:
            bodies.htmls.append(text)
        return
    attachment = _attachment(part, content_type, filename, options, counter)
    tnef = _read_tnef(attachment.content, counter) if _is_tnef(attachment) else None
    if tnef is None or not tnef.intact:
        parsed.attachments.append(attachment)
    if tnef is not None:
        parsed.attachments.extend(tnef.files)
        if tnef.body.text.strip() or tnef.body.html.strip() or tnef.body.rtf:
            bodies.tnef.append(tnef.body)


def _content_type(part):
    try:
        content_type = part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.+\-_]*/[a-z0-9][a-z0-9.+\-_]*", content_type or ""):
        return "application/octet-stream"
    return content_type


def _disposition(part):
    value = decode_header_text(_raw(part, "content-disposition"))
    return value.split(";", 1)[0].strip().lower()


def _filename(part):
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 — a broken parameter: look for it by hand
        name = None
    if not name:
        for header in ("content-disposition", "content-type"):
            found = re.search(r'(?:file)?name\s*=\s*"?([^";]+)', _raw(part, header), re.I)
            if found:
                name = found.group(1)
                break
    if not name:
        return ""
    if not isinstance(name, str):
        name = str(name)
    return decode_header_text(name) if ("=?" in name or not name.isascii()) else name


def safe_filename(name, content_type="application/octet-stream", number=1):
    """A name that is safe on any disk and in a Content-Disposition: no path, no control
    characters, no leading dot, at most 150 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*]+', "_", name)
    name = " ".join(name.split()).strip(" .")
    if not name:
        extension = mimetypes.guess_extension(content_type or "") or (
            ".txt" if content_type.startswith("text/") else ".bin")
        name = f"attachment-{number}{extension}"
    if len(name) > 150:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[:150 - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:150].rstrip(" .")
    return name


def _encoded_size(part):
    """The decoded size of a part, estimated from its encoded text without decoding it."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return 0
    encoding = (_raw(part, "content-transfer-encoding").strip().lower())
    if encoding == "base64":
        whitespace = payload.count("\n") + payload.count("\r") + payload.count(" ")
        return max(len(payload) - whitespace, 0) * 3 // 4
    return len(payload)


def _payload_bytes(part):
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 — undecodable: the encoded text as it came
        data = None
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


def _part_text(part):
    payload = part.get_payload()
    if (_raw(part, "content-transfer-encoding").strip().lower() == "base64"
            and isinstance(payload, str) and not BASE64_TEXT.fullmatch(payload)):
        # Labelled base64 but plainly not: decoding would turn the text into noise.
        data = payload.encode("utf-8", "surrogateescape")
    else:
        data = _payload_bytes(part)
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return _plain_lines(bytes_to_text(data, charset))


def _plain_lines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _elided_size(part, options):
    """The decoded size of a body `_elide_oversized` took out, or None."""
    if not options.elided:
        return None
    payload = part.get_payload()
    if isinstance(payload, str) and payload.lstrip().startswith(_ELIDED):
        key = payload.split()[0]
        return options.elided.get(key, 0) + max(len(payload) - len(key), 0) * 3 // 4
    return None


def _attachment(part, content_type, filename, options, counter):
    counter[0] += 1
    cid = message_ids(_raw(part, "content-id")) or [
        "".join(_raw(part, "content-id").split()).strip("<>")]
    cid = cid[0] if cid and cid[0] else None
    name = safe_filename(filename, content_type, counter[0])
    limit = options.limit
    estimate = _elided_size(part, options)
    if estimate is None:
        estimate = _encoded_size(part)
    if estimate > limit:
        return ParsedAttachment(name, content_type, estimate, None, oversized=True,
                                inline_cid=cid)
    data = _payload_bytes(part)
    if len(data) > limit:
        return ParsedAttachment(name, content_type, len(data), None, oversized=True,
                                inline_cid=cid)
    return ParsedAttachment(name, content_type, len(data), data, inline_cid=cid)


def _forwarded(part, counter):
    """A forwarded message (message/rfc822): an attachment named after its subject."""
    counter[0] += 1
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    subject = decode_header_text(_raw(inner, "subject")) if inner is not None else ""
    filename = _filename(part) or (f"{subject}.eml" if subject else "")
    data = b""
    if inner is not None:
        try:
            data = inner.as_bytes(policy=policy.compat32)
        except Exception:  # noqa: BLE001
            data = inner.as_string(maxheaderlen=policy.compat32.max_line_length,
                                   policy=policy.compat32).encode("utf-8", "surrogateescape")
    elif isinstance(payload, str):
        data = payload.encode("utf-8", "surrogateescape")
    name = safe_filename(filename, "message/rfc822", counter[0])
    if not name.lower().endswith(".eml"):
        name = safe_filename(name + ".eml")
    return ParsedAttachment(name, "message/rfc822", len(data), data)


# ---------------------------------------------------------------------------------------
# TNEF: Outlook's winmail.dat

TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
MAPI_ATTACH_MIME_TAG = 0x370E       # MS-OXPROPS PidTagAttachMimeTag
MAPI_ATTACH_CONTENT_ID = 0x3712     # PidTagAttachContentId
MAPI_ATTACH_LONG_FILENAME = 0x3707  # PidTagAttachLongFilename


@dataclass
class _TnefBody:
    text: str = ""
    html: str = ""
    rtf: bytes = b""        # compressed RTF (MS-OXRTFCP), its CRC checked


@dataclass
class _Tnef:
    files: list             # ParsedAttachment
    body: _TnefBody
    intact: bool            # every checksum matched


def _is_tnef(attachment):
    return attachment.content is not None and (
        attachment.content_type in TNEF_TYPES or attachment.filename.lower() == "winmail.dat")


def _read_tnef(data, counter):
    """The files and body inside a winmail.dat, or None when it cannot be read: no TNEF
    signature, cut short, an RTF body that does not check out, nothing inside.

    A checksum that does not match is no reason to give up when the stream is whole (as
    for tnefparse, which only warns), but the caller then keeps winmail.dat too: a file in
    it may be damaged."""
    if not _tnef_is_whole(data):
        return None
    try:
        tnef = tnefparse.TNEF(data, do_checksum=True)
        files = [_tnef_file(attachment, counter) for attachment in tnef.attachments]
        body = _TnefBody(text=_tnef_text(tnef.body, tnef.codepage),
                         html=_tnef_text(tnef.htmlbody, None))
        # tnefparse 1.4.0 hands out compressed RTF only through a property that logs a
        # warning each time (without the compressed_rtf package): read the field.
        if not (body.text.strip() or body.html.strip()) and tnef._rtfbody:
            body.rtf = _checked_compressed_rtf(tnef._rtfbody)
            if body.rtf is None:
                return None
    except Exception:  # noqa: BLE001 — a broken winmail.dat stays as it came
        return None
    if not files and not (body.text.strip() or body.html.strip() or body.rtf):
        return None
    return _Tnef(files, body, intact=all(obj.good_checksum for obj in tnef.objects))


_TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
_TNEF_ATTRIBUTE = struct.Struct("<BII")     # level, id, length; then data and a checksum


def _tnef_is_whole(data):
    """Whether `data` is a TNEF stream whose attributes end exactly where it does (tnefparse
    reads a stream cut short without a word)."""
    if not data.startswith(_TNEF_SIGNATURE):
        return False
    position = len(_TNEF_SIGNATURE) + 2                 # and the legacy key
    while position < len(data):
        if position + _TNEF_ATTRIBUTE.size + 2 > len(data):
            return False
        _level, _id, length = _TNEF_ATTRIBUTE.unpack_from(data, position)
        position += _TNEF_ATTRIBUTE.size + length + 2
    return position == len(data)


def _tnef_file(attachment, counter):
    counter[0] += 1
    # Else the short name, as bytes (tnefparse's `name` reads them as UTF-8 or raises).
    name = _mapi_property(attachment, MAPI_ATTACH_LONG_FILENAME) or attachment._name
    if isinstance(name, bytes):
        name = bytes_to_text(name, attachment.codepage)
    name = safe_filename(str(name).strip("\x00"), "application/octet-stream", counter[0])
    content_type = str(_mapi_property(attachment, MAPI_ATTACH_MIME_TAG) or "")
    content_type = content_type.strip("\x00").lower()
    if hasattr(attachment, "embed"):
        content_type = "application/ms-tnef"        # an attached Outlook item, itself TNEF
    if not re.fullmatch(r"[a-z0-9][a-z0-9.+\-_]*/[a-z0-9][a-z0-9.+\-_]*", content_type):
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    cid = _mapi_property(attachment, MAPI_ATTACH_CONTENT_ID)
    cid = ("".join(str(cid).split()).strip("<>\x00") or None) if cid else None
    # No size check: a file is smaller than the winmail.dat it came in, which was not
    # larger than the limit (else it is not opened).
    data = bytes(attachment.data or b"")
    return ParsedAttachment(name, content_type, len(data), data, inline_cid=cid)


def _mapi_property(attachment, tag):
    # Only the properties asked for are decoded: any other may be broken, it does not matter.
    return next((p.data for p in attachment.mapi_attrs if p.name == tag), None)


def _tnef_text(value, charset):
    if not value:
        return ""
    if isinstance(value, bytes):
        value = bytes_to_text(value, charset)
    return _plain_lines(str(value))


def _use_tnef_body(body, parsed, options):
    if body.text.strip():
        parsed.text = body.text.strip("\n")
    elif body.html.strip():
        parsed.html = body.html
    elif body.rtf:
        # RTF is no text we show: it goes with the attachments, as Outlook wrote it.
        size = _RTF_HEADER.unpack_from(body.rtf)[1]
        if size > options.limit:        # compressed RTF can be far larger unpacked
            parsed.attachments.append(ParsedAttachment(
                "message.rtf", "application/rtf", size, None, oversized=True))
        else:
            rtf = _decompressed_rtf(body.rtf)
            parsed.attachments.append(ParsedAttachment(
                "message.rtf", "application/rtf", len(rtf), rtf))


# Compressed RTF (MS-OXRTFCP): a 16-byte header, then LZ77 against a 4 KiB window that
# starts out holding this text.
_RTF_HEADER = struct.Struct("<IIII")     # size after this field, raw size, kind, CRC
_RTF_COMPRESSED, _RTF_STORED = 0x75465A4C, 0x414C454D       # "LZFu", "MELA"
_RTF_WINDOW_START = (
    rb"{\rtf1\ansi\mac\deff0\deftab720{\fonttbl;}{\f0\fnil \froman \fswiss \fmodern "
    rb"\fscript \fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\colortbl\red0"
    rb"\green0\blue0" b"\r\n" rb"\par \pard\plain\f0\fs20\b\i\u\tab\tx")


def _checked_compressed_rtf(data):
    """`data` as a whole compressed RTF stream whose CRC matches, else None."""
    if len(data) < _RTF_HEADER.size:
        return None
    size, _raw_size, kind, crc = _RTF_HEADER.unpack_from(data)
    if size < 12 or kind not in (_RTF_COMPRESSED, _RTF_STORED):
        return None
    # tnefparse strips trailing NUL bytes off binary properties: the header says how many
    # there were (a few at most; more and the stream was cut short).
    if size + 4 > len(data) + 64:
        return None
    data = bytes(data[:size + 4]).ljust(size + 4, b"\x00")
    if kind == _RTF_COMPRESSED and _rtf_crc(data[_RTF_HEADER.size:]) != crc:
        return None
    return data


def _rtf_crc(data):
    # MS-OXRTFCP's CRC-32 starts from 0 and is not inverted at the end; zlib's is both.
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def _decompressed_rtf(data):
    """The RTF in a stream `_checked_compressed_rtf` accepted."""
    _size, raw_size, kind, _crc = _RTF_HEADER.unpack_from(data)
    stream = data[_RTF_HEADER.size:]
    if kind == _RTF_STORED:
        return stream[:raw_size]
    window = bytearray(4096)
    window[:len(_RTF_WINDOW_START)] = _RTF_WINDOW_START
    write, position, out = len(_RTF_WINDOW_START), 0, bytearray()
    while position < len(stream) and len(out) < raw_size:
        control = stream[position]             # 8 flags: a reference, or a literal byte
        position += 1
        for bit in range(8):
            if position >= len(stream):
                break
            if control >> bit & 1:              # a reference: 12-bit offset, 4-bit length
                token = int.from_bytes(stream[position:position + 2], "big")
                position += 2
                offset, length = token >> 4, (token & 0xF) + 2
                if offset == write:             # the end marker
                    return bytes(out[:raw_size])
                for i in range(length):        # byte by byte: it may copy its own output
                    write = _rtf_put(window[(offset + i) % 4096], window, write, out)
            else:
                write = _rtf_put(stream[position], window, write, out)
                position += 1
    return bytes(out[:raw_size])


def _rtf_put(byte, window, write, out):
    out.append(byte)
    window[write] = byte
    return (write + 1) % len(window)


class _TextFromHtml(HTMLParser):
    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "blockquote", "pre", "hr", "ul", "ol", "section", "article", "header", "footer"}
    SKIP = {"script", "style", "head", "title", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html):
    """Readable plain text from an HTML body: no tags, no scripts or styles, lines kept."""
    reader = _TextFromHtml()
    try:
        reader.feed(html)
        reader.close()
        text = "".join(reader.parts)
    except Exception:  # noqa: BLE001 — HTMLParser rarely gives up; strip tags then
        text = html_lib.unescape(re.sub(r"<[^>]*>", " ", html))
    lines = [" ".join(line.split()) for line in text.replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------------------------------
# Automatic mail: auto-replies and delivery reports

def _read_automatic(message, parsed, options):
    parsed.auto_reason = _auto_reason(message, parsed.subject)


def _auto_reason(message, subject):
    submitted = decode_header_text(_raw(message, "auto-submitted")).lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {submitted}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if _raw_values(message, header):
            return header
    precedence = decode_header_text(_raw(message, "precedence")).lower().strip()
    if precedence in ("bulk", "auto_reply", "junk", "list"):
        return f"Precedence: {precedence}"
    suppress = {v.strip().lower()
                for v in decode_header_text(_raw(message, "x-auto-response-suppress")).split(",")}
    if "all" in suppress or {"oof", "autoreply"} <= suppress:
        return "X-Auto-Response-Suppress (Exchange automatic reply)"
    if OOO_SUBJECTS.match(subject or ""):
        return "Out-of-office subject"
    return ""


def _bounce(part):
    """The failed recipients of a delivery report (RFC 3464), or None when none failed."""
    payload = part.get_payload()
    blocks = []
    if isinstance(payload, list):
        for block in payload:
            blocks.append({k.lower(): decode_header_text(str(v)) for k, v in block.raw_items()})
    else:
        text = bytes_to_text(_payload_bytes(part))
        for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
            fields = {}
            for line in re.sub(r"\n[ \t]+", " ", chunk).split("\n"):
                key, colon, value = line.partition(":")
                if colon:
                    fields[key.strip().lower()] = value.strip()
            blocks.append(fields)
    failed, statuses = [], []
    for fields in blocks:
        action = fields.get("action", "").strip().lower()
        status = re.search(r"[245]\.\d{1,3}\.\d{1,3}", fields.get("status", ""))
        status = status.group(0) if status else ""
        failing = action in ("failed", "delayed") or (not action and status[:1] in ("4", "5"))
        if not failing:
            continue
        recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        if "@" in address:
            failed.append(address)
        statuses.append(status or ("5.0.0" if action == "failed" else "4.0.0"))
    if not statuses:
        return None
    permanent = [s for s in statuses if s.startswith("5")]
    status = permanent[0] if permanent else statuses[0]
    return Bounce(status=status, recipients=_unique(failed), permanent=bool(permanent))


# ---------------------------------------------------------------------------------------
# Quoted history, for the display to fold

_WROTE = re.compile(
    r"^[ \t]*(On|Op|Am|Le|El|Il giorno|Il|Στις|Την|Em)\b[^\n]*(\n[^\n]*){0,2}?"
    r"(wrote|schreef|schrieb|a écrit|escribió|ha scritto|έγραψε|escreveu)\b[^\n]*:[ \t]*$",
    re.M | re.I)
_ORIGINAL = re.compile(
    r"^[ \t]*-{2,}[ \t]*(Original Message|Oorspronkelijk bericht|Origineel bericht|"
    r"Messaggio originale|Ursprüngliche Nachricht|Αρχικό μήνυμα|Message d'origine|"
    r"Forwarded message|Doorgestuurd bericht)[ \t]*-{2,}[ \t]*$", re.M | re.I)
_FROM_LINE = re.compile(r"^[ \t]*\*?(From|Van|Da|Von|Από|De)\*?[ \t]*:", re.I)
_SENT_LINE = re.compile(
    r"^[ \t]*\*?(Sent|Date|Verzonden|Datum|Inviato|Data|Gesendet|Στάλθηκε|Ημερομηνία|"
    r"Envoyé)\*?[ \t]*:", re.I)


def split_quoted(text):
    """(new text, quoted history): the history starts at the first "On … wrote:" line (in
    English, Dutch, German, French, Spanish, Italian, Greek), Outlook's "-----Original
    Message-----" or "From: … Sent: …" block, or a trailing run of ">" lines. The quoted
    part is returned whole, for the display to fold; ("text", "") when there is none."""
    text = text or ""
    lines = text.split("\n")
    starts = []
    for pattern in (_WROTE, _ORIGINAL):
        for found in pattern.finditer(text):
            if pattern is _WROTE and not re.search(r"\d|@", found.group(0)):
                continue                    # "On Monday I wrote:" is not a quote header
            starts.append(text.count("\n", 0, found.start()))
            break
    for index, line in enumerate(lines):
        if _FROM_LINE.match(line) and any(_SENT_LINE.match(following)
                                          for following in lines[index + 1:index + 4]):
            start = index
            if start > 0 and re.fullmatch(r"[ \t]*[_\-=]{10,}[ \t]*", lines[start - 1]):
                start -= 1
            starts.append(start)
            break
    quoted_tail = len(lines)
    while quoted_tail > 0 and (lines[quoted_tail - 1].lstrip().startswith(">")
                               or not lines[quoted_tail - 1].strip()):
        quoted_tail -= 1
    if quoted_tail < len(lines) and any(line.lstrip().startswith(">")
                                        for line in lines[quoted_tail:]):
        while quoted_tail < len(lines) and not lines[quoted_tail].strip():
            quoted_tail += 1
        starts.append(quoted_tail)
    if not starts:
        return text, ""
    start = min(starts)
    new = "\n".join(lines[:start]).rstrip()
    quoted = "\n".join(lines[start:]).strip("\n")
    if not new.strip():
        return text, ""     # nothing new above the quote: show it all
    return new, quoted
