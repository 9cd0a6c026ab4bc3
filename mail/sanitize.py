"""Inbound mail is untrusted: its HTML is cleaned with nh3 before anyone sees it.

What stays is a conservative set of formatting tags (paragraphs, lists, tables, links, images)
with a handful of attributes — no scripts, event handlers, forms, frames, style attributes or
classes, and links only to http, https and mailto (a `javascript:` link loses its href).
Remote images are not loaded until a person asks: their `src` is dropped and counted, so
opening an email tells no sender (or tracking pixel) that it was read. With `show_images`
only https images stay; the page that shows them relaxes its Content-Security-Policy for
that one response (see routes/inbox.py). Inline `cid:` images point at our own download of
the stored part (routes/attachments.py).

Earlier replies quoted below the new text are split off, so the timeline can fold them.
"""
import re
import unicodedata
from dataclasses import dataclass

import nh3
from markupsafe import Markup

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
# Tags dropped together with everything inside them.
DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "iframe", "frame", "frameset",
                        "object", "embed", "noscript", "template", "textarea", "select",
                        "option", "svg", "math", "button", "applet"}
URL_SCHEMES = {"http", "https", "mailto", "cid"}
MAX_FILENAME = 150

# Where a mail program starts the quoted earlier message in HTML (Gmail, Apple Mail and
# Thunderbird, Outlook on the web and desktop).
HTML_QUOTE_MARKERS = re.compile(
    r"<div[^>]*class=[\"']?gmail_quote"
    r"|<blockquote[^>]*type=[\"']?cite"
    r"|<div[^>]*id=[\"']?(?:divRplyFwdMsg|appendonsend|mail-editor-reference-message-container)"
    r"|<hr[^>]*id=[\"']?stopSpelling"
    r"|<div[^>]*style=[\"'][^\"']*border-top:\s*solid\s+#[0-9a-f]{6}[^\"']*[\"'][^>]*>\s*<p[^>]*>\s*<b>"
    r"|-{3,}\s*Original Message\s*-{3,}",
    re.IGNORECASE)


@dataclass
class Body:
    """An email's text ready for a template: `new` and the folded `quoted` part.

    For HTML both are Markup (cleaned); for plain text both are str (the template escapes).
    """
    is_html: bool
    new: object
    quoted: object
    blocked_images: int = 0


def clean_html(html, show_images=False, cid_url=None):
    """(cleaned Markup, number of remote images held back).

    `cid_url(content_id)` gives the URL of an inline part, or None to drop the image.
    """
    blocked = 0

    def keep(tag, attribute, value):
        nonlocal blocked
        if attribute not in ("src", "href"):
            return value
        scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
        if scheme not in URL_SCHEMES:
            if attribute == "src" and value.strip().startswith("//"):
                blocked += 1  # a protocol-relative image is a remote one
            return None  # relative URLs: nothing of ours to point at
        if attribute == "href":
            return None if scheme == "cid" else value
        if scheme == "cid":
            return cid_url(value[4:].strip().strip("<>")) if cid_url else None
        if show_images and scheme == "https":
            return value
        blocked += 1
        return None

    cleaned = nh3.clean(html or "", tags=TAGS, attributes=ATTRIBUTES,
                        clean_content_tags=DROPPED_WITH_CONTENT, attribute_filter=keep,
                        url_schemes=URL_SCHEMES, strip_comments=True,
                        link_rel="noopener noreferrer nofollow",
                        set_tag_attribute_values={"a": {"target": "_blank"}})
    return Markup(cleaned), blocked  # nh3's output: the only markup we ever mark safe


def split_html_quote(html):
    """(new part, quoted part) of raw HTML, at the first quoted-reply marker."""
    found = HTML_QUOTE_MARKERS.search(html or "")
    if not found or not html[:found.start()].strip():
        return html or "", ""
    return html[:found.start()], html[found.start():]


def split_text_quote(text):
    """(new part, quoted part) of a plain-text body: the parser's split_quoted when present."""
    try:
        from mail.parse import split_quoted
    except ImportError:  # the parser has not landed: a simple split on "> " lines and headers
        return _split_text(text)
    new, quoted = split_quoted(text or "")
    return new, quoted


ATTRIBUTION = re.compile(
    r"^(On .{4,200} wrote:|Op .{4,200} schreef .{1,200}:|Il .{4,200} ha scritto:"
    r"|-{3,}\s*Original Message\s*-{3,}|From: .+|_{10,})\s*$",
    re.IGNORECASE)


def _split_text(text):
    lines = (text or "").splitlines()
    for index, line in enumerate(lines):
        starts_quote = ATTRIBUTION.match(line.strip()) or (
            line.startswith(">") and all(not l.strip() or l.startswith(">")
                                         for l in lines[index:]))
        if starts_quote and "\n".join(lines[:index]).strip():
            return "\n".join(lines[:index]).rstrip(), "\n".join(lines[index:])
    return text or "", ""


def email_body(email, show_images=False, cid_url=None):
    """The body of a stored email as it is shown: cleaned HTML when it has some, else text."""
    if (email.body_html or "").strip():
        new, quoted = split_html_quote(email.body_html)
        new_html, blocked = clean_html(new, show_images, cid_url)
        quoted_html, blocked_quoted = clean_html(quoted, show_images, cid_url) if quoted \
            else (Markup(""), 0)
        if str(new_html).strip():
            return Body(True, new_html, quoted_html, blocked + blocked_quoted)
    new, quoted = split_text_quote(email.body_text or "")
    return Body(False, new.strip("\n"), quoted.strip("\n"))


def safe_filename(name):
    """A filename without paths, control characters or quotes, at most MAX_FILENAME long."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'["<>:|?*;]', "_", name).strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:12] if dot and stem else ""
        name = name[:MAX_FILENAME - len(ext) - 1].rstrip(" .") + ("." + ext if ext else "")
    return name or "attachment"
