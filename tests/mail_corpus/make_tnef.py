"""Writes the TNEF (winmail.dat) corpus messages: `.venv/bin/python tests/mail_corpus/make_tnef.py`.

The winmail.dat blobs are built byte by byte after [MS-OXTNEF] (attributes: a level, an id, a
length, the data and a 16-bit checksum; MAPI properties in attMsgProps and attAttachment),
with the compressed RTF body copied from the example in [MS-OXRTFCP] section 3.1.1. Nothing
here comes from a real mailbox. The output is the same on every run.
"""
import base64
import struct
from pathlib import Path

HERE = Path(__file__).parent

# Attribute ids: the type in the high word, the attribute in the low one ([MS-OXTNEF] 2.1.3.3).
TNEF_VERSION, OEM_CODEPAGE, MESSAGE_CLASS = 0x00089006, 0x00069007, 0x00078008
SUBJECT, BODY, MSG_PROPS = 0x00018004, 0x0002800C, 0x00069003
ATTACH_REND_DATA, ATTACH_TITLE, ATTACH_DATA, ATTACHMENT = (
    0x00069002, 0x00018010, 0x0006800F, 0x00069005)
MESSAGE, ATTACHMENT_LEVEL = 0x01, 0x02

# MAPI property types and tags ([MS-OXPROPS]).
PT_LONG, PT_STRING8, PT_UNICODE, PT_BINARY = 0x0003, 0x001E, 0x001F, 0x0102
PR_RTF_COMPRESSED, PR_BODY_HTML, PR_INTERNET_CPID = 0x1009, 0x1013, 0x3FDE
PR_ATTACH_LONG_FILENAME, PR_ATTACH_MIME_TAG = 0x3707, 0x370E

# [MS-OXRTFCP] 3.1.1: "{\rtf1\ansi\ansicpg1252\pard hello world}\r\n", compressed.
RTF_EXAMPLE = bytes.fromhex(
    "2d0000002b0000004c5a4675f1c5c7a703000a007263706731323542320af32068656c09002062770"
    "5b06c647d0a800fa0")

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")
CSV = "artikel;prijs\r\nbrood;2,50\r\ntaart;12,00\r\n".encode("cp1252")


def attribute(level, ident, data):
    return (struct.pack("<BII", level, ident, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))


def padded(data):
    return data + b"\x00" * (-len(data) % 4)


def mapi_property(kind, tag, value):
    head = struct.pack("<HH", kind, tag)
    if kind == PT_LONG:
        return head + struct.pack("<I", value)
    if kind == PT_UNICODE:
        value = value.encode("utf-16-le") + b"\x00\x00"
    elif kind == PT_STRING8:
        value = value.encode("cp1252") + b"\x00"
    return head + struct.pack("<II", 1, len(value)) + padded(value)


def mapi_properties(*properties):
    return struct.pack("<I", len(properties)) + b"".join(properties)


def tnef(*attributes):
    return struct.pack("<IH", 0x223E9F78, 0x0118) + b"".join(attributes)


def message_start(subject):
    return [attribute(MESSAGE, TNEF_VERSION, struct.pack("<I", 0x00010000)),
            attribute(MESSAGE, OEM_CODEPAGE, struct.pack("<II", 1252, 0)),
            attribute(MESSAGE, MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\x00"),
            attribute(MESSAGE, SUBJECT, subject.encode("cp1252") + b"\x00")]


def file_attachment(title, data, *properties):
    # attAttachRendData opens an attachment: a file, no position, 32x32, no flags.
    parts = [attribute(ATTACHMENT_LEVEL, ATTACH_REND_DATA,
                       struct.pack("<HIHHI", 1, 0xFFFFFFFF, 32, 32, 0)),
             attribute(ATTACHMENT_LEVEL, ATTACH_TITLE, title.encode("cp1252") + b"\x00"),
             attribute(ATTACHMENT_LEVEL, ATTACH_DATA, data)]
    if properties:
        parts.append(attribute(ATTACHMENT_LEVEL, ATTACHMENT, mapi_properties(*properties)))
    return parts


def purchase_order_tnef():
    """A plain-text body in cp1252 and two files: a PDF whose long name is a Windows path,
    and a CSV known only by its short title."""
    return tnef(
        *message_start("Inkooporder 118"),
        attribute(MESSAGE, BODY,
                  "Beste Sales,\r\n\r\nIn de bijlage onze inkooporder 118 (totaal € 1.250).\r\n"
                  "\r\nMet vriendelijke groet,\r\nJoris".encode("cp1252")),
        *file_attachment("PO118.PDF", PDF,
                         mapi_property(PT_UNICODE, PR_ATTACH_LONG_FILENAME,
                                       "C:\\Users\\joris\\Inkooporder 118 – juni.pdf"),
                         mapi_property(PT_STRING8, PR_ATTACH_MIME_TAG, "application/pdf")),
        *file_attachment("prijzen.csv", CSV))


def rtf_only_tnef():
    """No plain-text or HTML body: only compressed RTF, and no files."""
    return tnef(*message_start("Levering"),
                attribute(MESSAGE, MSG_PROPS, mapi_properties(
                    mapi_property(PT_BINARY, PR_RTF_COMPRESSED, RTF_EXAMPLE))))


def html_only_tnef():
    """An HTML body (UTF-8, says PR_INTERNET_CPID) and no plain-text one."""
    html = "<html><body><p>Graag 40 pallets, levering maandag.</p><p>Grüße, Joris</p></body></html>"
    return tnef(*message_start("Bestelling"),
                attribute(MESSAGE, MSG_PROPS, mapi_properties(
                    mapi_property(PT_LONG, PR_INTERNET_CPID, 65001),
                    mapi_property(PT_BINARY, PR_BODY_HTML, html.encode("utf-8")))))


def message(message_id, subject, blob, text=None):
    lines = ["From: Joris Janssen <joris@janssen-metaal.be>", "To: sales@example.com",
             f"Subject: {subject}", "Date: Tue, 02 Jun 2026 09:15:00 +0200",
             f"Message-ID: <{message_id}@janssen-metaal.be>", "MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="tn"', "X-MS-Has-Attach: yes",
             "X-MS-TNEF-Correlator: <" + message_id + "-tnef@janssen-metaal.be>", ""]
    if text is not None:
        lines += ["--tn", "Content-Type: text/plain; charset=us-ascii", "", text]
    lines += ["--tn", 'Content-Type: application/ms-tnef; name="winmail.dat"',
              'Content-Disposition: attachment; filename="winmail.dat"',
              "Content-Transfer-Encoding: base64", ""]
    encoded = base64.encodebytes(blob).decode().splitlines()
    return ("\r\n".join(lines + encoded + ["--tn--", ""])).encode("ascii")


def main():
    order = purchase_order_tnef()
    cut_short = order[:len(order) - 40]         # ends inside the CSV's data
    files = {
        "tnef_files.eml": message("tnef-files", "Inkooporder 118", order),
        "tnef_rtf_only.eml": message("tnef-rtf", "Levering", rtf_only_tnef()),
        "tnef_html_only.eml": message("tnef-html", "Bestelling", html_only_tnef()),
        "tnef_truncated.eml": message("tnef-truncated", "Inkooporder 118", cut_short,
                                      text="Our purchase order is attached."),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
