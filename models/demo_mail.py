"""The demo's shared mailbox: a week of received mail, filed the way the poller files it.

Each message is real MIME, run through mail/inbound.py's `file_message` like a fetched one,
so the demo shows every way mail finds its account — a contact's reply, a colleague at a
customer's domain, an out-of-office, a bounce — and leaves a few in the inbox for a person.
Message-IDs are fixed, so loading the demo twice stores nothing twice.
"""
import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from .db import utcnow

DOMAIN = "demo.accountable.invalid"     # our side of the demo's Message-IDs

# (account index in ACCOUNTS or None, sender: "contact" / local part at the account's domain
# / full address, days ago, subject, text, extra)
MESSAGES = [
    (0, "contact", 1, "Re: levering volgende week",
     "Goedemorgen,\n\nDinsdag tussen 7 en 9 uur past ons prima voor de levering. Kunnen jullie "
     "ook twee dozen extra bakpapier meenemen?\n\nMet vriendelijke groet", {}),
    (17, "contact", 2, "Ordine per aprile",
     "Buongiorno,\n\nvi confermo l'ordine per aprile: 40 confezioni di sacchetti per il pane e "
     "20 rotoli di carta forno. Consegna come sempre il lunedì.\n\nCordiali saluti", {}),
    (26, "info", 3, "Προσφορά για κουτιά δώρου",
     "Καλησπέρα σας,\n\nθα θέλαμε προσφορά για 500 κουτιά δώρου για τα Χριστούγεννα, με το "
     "λογότυπό μας.\n\nΕυχαριστούμε", {}),
    (36, "contact", 0, "Purchase order PO-4471",
     "Dear Marco,\n\nplease find our purchase order PO-4471 attached, as agreed on the phone."
     "\n\nKind regards", {"attachment": ("PO-4471.pdf", b"%PDF-1.4\n% demo purchase order\n")}),
    (12, "contact", 4, "Re: samples of the compostable range",
     "Hi Anna,\n\nthe samples arrived, thank you. The soup cups are perfect; the lids are a "
     "little loose.\n\nBest,", {"html": True}),
    (2, "contact", 0, "Afwezig: Re: jaarafspraken",
     "Ik ben afwezig tot en met vrijdag en lees mijn mail daarna.", {"auto": True}),
    (None, "lena.fischer.events@gmail.com", 1, "Price list for a wedding in June?",
     "Hello,\n\nwe are planning a wedding for 120 guests and look for tableware and napkins. "
     "Could you send a price list?\n\nThanks, Lena", {}),
    (None, "partners@packaging-direct.example", 5, "Partnership proposal",
     "Dear sir or madam,\n\nwe produce custom packaging in Portugal and would like to present "
     "our range to you.", {}),
    (None, "noreply@newsletter.foodtrade.example", 6, "Food Trade Weekly: the spring fairs",
     "This week: the spring fairs, new rules on packaging waste, and more.", {}),
    (3, "bounce", 3, "Undelivered Mail Returned to Sender", "", {}),
]


def load_demo_mail(accounts, contacts):
    """File the demo's received mail; how many messages."""
    from mail.inbound import file_message
    now = utcnow()
    for number, item in enumerate(MESSAGES):
        raw = _message(number, item, accounts, contacts, now)
        file_message(raw, None, "", 0, None, now)
    return len(MESSAGES)


def _message(number, item, accounts, contacts, now):
    index, sender, days_ago, subject, text, extra = item
    account = accounts[index] if index is not None else None
    people = contacts[account.id] if account is not None else []
    domain = account.email_domains[0] if account is not None else ""
    when = (now - datetime.timedelta(days=days_ago, hours=number)).replace(
        tzinfo=datetime.timezone.utc)
    if sender == "bounce":
        return _bounce(number, people[0], when)
    message = EmailMessage()
    if sender == "contact":
        contact = people[0]
        message["From"] = f"{contact.name} <{contact.email_rows[0].email}>"
    elif "@" in sender:
        message["From"] = sender
    else:
        message["From"] = f"{sender}@{domain}"
    message["To"] = "sales@example.com"
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<demo-{number}@{DOMAIN}>"
    if extra.get("auto"):
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(text)
    if extra.get("html"):
        paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n\n"))
        message.add_alternative(
            f"<html><body>{paragraphs}<img src=\"https://tracker.example/pixel.gif\" alt=\"\">"
            "<div class=\"gmail_quote\"><p>On Monday Anna wrote:</p><blockquote>We send the "
            "samples today.</blockquote></div></body></html>", subtype="html")
    if extra.get("attachment"):
        filename, data = extra["attachment"]
        message.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


def _bounce(number, contact, when):
    """A delivery status notification (RFC 3464): the contact's mailbox does not exist."""
    address = contact.email_rows[0].email
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\r\n"
        "To: sales@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"Message-ID: <demo-{number}@{DOMAIN}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n'
        "\r\n"
        "--dsn\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Your message could not be delivered to {address}: the mailbox does not exist.\r\n"
        "--dsn\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mail.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "--dsn--\r\n").encode()
