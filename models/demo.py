"""Demonstration data: a small European wholesaler, its sales team, customers and history.

Noordzee & Co. supplies bakeries, hotels, restaurants, caterers and shops in the
Netherlands, Belgium, Italy, Greece and the British Isles with packaging, ingredients,
cleaning products and kitchen equipment. Everything here is invented; the random choices
are seeded, so every load tells the same story, dated relative to today.
"""
import datetime
import random
import unicodedata

from .accounts import Account, AccountDomain, clean_account, save_account, set_team_member
from .contacts import Contact, clean_contact, save_contact
from .db import db, to_utc, utcnow
from .demo_mail import load_demo_mail
from .demo_quotes import load_demo_quotes
from .tasks import create_task
from .timeline import record_entry
from .users import User

DEMO_PASSWORD = "accountable-demo"
SEED = 20260301

# email, name, role, language, time zone, away
USERS = [
    ("admin@example.com", "Lotte Visser", "admin", "en", "Europe/Amsterdam", False),
    ("anna@example.com", "Anna de Vries", "account_manager", "en", "Europe/Amsterdam", False),
    ("giulia@example.com", "Giulia Bianchi", "account_manager", "it", "Europe/Rome", False),
    ("nikos@example.com", "Nikos Papadakis", "account_manager", "el", "Europe/Athens", True),
    ("sofia@example.com", "Sofia Martens", "inside_sales", "nl", "Europe/Amsterdam", False),
    ("marco@example.com", "Marco Ferri", "manager", "it", "Europe/Rome", False),
    ("femke@example.com", "Femke Smit", "finance", "nl", "Europe/Amsterdam", False),
]

# Country: language, currency, VAT prefix and digits, phone prefix and area codes.
COUNTRIES = {
    "Netherlands": ("nl", "EUR", "NL", 9, "+31", ("20", "30", "10", "50", "38", "71", "40")),
    "Belgium": ("nl", "EUR", "BE0", 9, "+32", ("3", "9", "2")),
    "Italy": ("it", "EUR", "IT", 11, "+39", ("02", "06", "011", "051", "055", "081")),
    "Greece": ("el", "EUR", "EL", 9, "+30", ("210", "2310", "2810", "2610", "2421")),
    "United Kingdom": ("en", "GBP", "GB", 9, "+44", ("117", "113", "161", "1904", "191")),
    "Ireland": ("en", "EUR", "IE", 8, "+353", ("1", "21", "91")),
    "Switzerland": ("en", "CHF", "CHE-", 9, "+41", ("44", "61", "31")),
}

# owner, name, street, postal code, city, country, industry, email domain, stage, size
ACCOUNTS = [
    ("anna", "Bakkerij Van den Berg", "Twijnstraat 41", "3511 ZH", "Utrecht", "Netherlands", "Bakery", "bakkerijvandenberg.nl", "customer", "M"),
    ("anna", "Slagerij De Boer", "Langestraat 12", "3811 AC", "Amersfoort", "Netherlands", "Butcher", "slagerijdeboer.nl", "customer", "S"),
    ("anna", "Hotel De Gouden Leeuw", "Grote Markt 7", "2011 RD", "Haarlem", "Netherlands", "Hotel", "goudenleeuwhaarlem.nl", "customer", "L"),
    ("anna", "Restaurant Het Zuiderhuis", "Witte de Withstraat 88", "3012 BS", "Rotterdam", "Netherlands", "Restaurant", "zuiderhuis.nl", "customer", "M"),
    ("anna", "Van Dijk Horeca B.V.", "Ceintuurbaan 140", "8024 AA", "Zwolle", "Netherlands", "Food service", "vandijkhoreca.nl", "customer", "XL"),
    ("anna", "Koffiebranderij Mulder", "Haarlemmerstraat 201", "2312 DR", "Leiden", "Netherlands", "Coffee roaster", "mulderkoffie.nl", "prospect", "S"),
    ("anna", "Catering Bos & Zn.", "Kanaaldijk 9", "5611 AB", "Eindhoven", "Netherlands", "Catering", "bosencatering.nl", "customer", "L"),
    ("anna", "Brasserie De Wadden", "Vismarkt 23", "9711 KT", "Groningen", "Netherlands", "Restaurant", "brasseriedewadden.nl", "prospect", "S"),
    ("anna", "Jansen Schoonmaakdiensten B.V.", "Industrieweg 60", "6827 BV", "Arnhem", "Netherlands", "Cleaning services", "jansenschoonmaak.nl", "customer", "M"),
    ("anna", "Zorgcentrum De Linde", "Lindelaan 2", "7411 GT", "Deventer", "Netherlands", "Care home kitchen", "zorgcentrumdelinde.nl", "suspect", "M"),
    ("anna", "Patisserie Smit", "Frederikstraat 14", "2514 LK", "Den Haag", "Netherlands", "Pastry", "patisseriesmit.nl", "customer", "S"),
    ("anna", "Bakkerij Peeters", "Kammenstraat 30", "2000", "Antwerpen", "Belgium", "Bakery", "bakkerijpeeters.be", "nurture", "S"),
    ("anna", "Harbour Lane Catering Ltd", "12 Harbour Lane", "BS1 4RN", "Bristol", "United Kingdom", "Catering", "harbourlanecatering.co.uk", "customer", "M"),
    ("anna", "The Copper Kettle Tearooms", "3 Stonegate", "YO1 8AW", "York", "United Kingdom", "Café", "copperkettleyork.co.uk", "customer", "S"),
    ("anna", "Riverside Bakehouse Ltd", "18 Ormond Quay", "D07 F6X2", "Dublin", "Ireland", "Bakery", "riversidebakehouse.ie", "prospect", "M"),
    ("anna", "Northgate Food Services Ltd", "Unit 4, Northgate Park", "LS10 1AB", "Leeds", "United Kingdom", "Food service", "northgatefoods.co.uk", "lost", "L"),
    ("giulia", "Ferramenta Rossi S.r.l.", "Via Padova 118", "20127", "Milano", "Italy", "Hardware retail", "ferramentarossi.it", "customer", "M"),
    ("giulia", "Panificio Esposito", "Via dei Tribunali 45", "80138", "Napoli", "Italy", "Bakery", "panificioesposito.it", "customer", "S"),
    ("giulia", "Trattoria Da Lucia", "Via del Pratello 31", "40122", "Bologna", "Italy", "Restaurant", "trattoriadalucia.it", "customer", "S"),
    ("giulia", "Hotel Bellavista S.p.A.", "Lungo Lario Trento 9", "22100", "Como", "Italy", "Hotel", "bellavistacomo.it", "customer", "XL"),
    ("giulia", "Pasticceria Ricci", "Via Po 20", "10123", "Torino", "Italy", "Pastry", "pasticceriaricci.it", "prospect", "S"),
    ("giulia", "Ristorante Il Gabbiano", "Calata Porta Soprana 4", "16123", "Genova", "Italy", "Restaurant", "ilgabbianogenova.it", "customer", "M"),
    ("giulia", "Caffè Moretti S.n.c.", "Piazza delle Erbe 6", "37121", "Verona", "Italy", "Café", "caffemoretti.it", "suspect", "S"),
    ("giulia", "Gelateria Colombo", "Borgo San Frediano 55", "50124", "Firenze", "Italy", "Ice cream", "gelateriacolombo.it", "customer", "S"),
    ("giulia", "Mensa Aziendale Conti S.r.l.", "Via Borgo Palazzo 90", "24125", "Bergamo", "Italy", "Catering", "conticatering.it", "prospect", "L"),
    ("giulia", "Macelleria Romano", "Via Cola di Rienzo 160", "00192", "Roma", "Italy", "Butcher", "macelleriaromano.it", "nurture", "S"),
    ("nikos", "Ζαχαροπλαστείο Παπαδόπουλος", "Ερμού 52", "105 63", "Αθήνα", "Greece", "Pastry", "papadopoulos-glyka.gr", "customer", "M"),
    ("nikos", "Ταβέρνα Ο Γιάννης", "Κατούνη 14", "546 25", "Θεσσαλονίκη", "Greece", "Restaurant", "tavernagiannis.gr", "customer", "S"),
    ("nikos", "Ξενοδοχείο Αιγαίο Α.Ε.", "Λεωφόρος Ικάρου 33", "712 01", "Ηράκλειο", "Greece", "Hotel", "aigaiohotel.gr", "customer", "L"),
    ("nikos", "Αρτοποιείο Νικολαΐδης", "Μαιζώνος 101", "262 21", "Πάτρα", "Greece", "Bakery", "artopoieio-nikolaidis.gr", "customer", "S"),
    ("nikos", "Καφέ Ακρόπολις", "Διονυσίου Αρεοπαγίτου 7", "117 42", "Αθήνα", "Greece", "Café", "cafeakropolis.gr", "prospect", "S"),
    ("nikos", "Κάβα Δημητρίου Ο.Ε.", "Κύπρου 28", "412 22", "Λάρισα", "Greece", "Wine and spirits retail", "kava-dimitriou.gr", "suspect", "S"),
    ("nikos", "Ψητοπωλείο Καραγιάννης", "Ιάσονος 19", "382 21", "Βόλος", "Greece", "Restaurant", "karagiannis-psita.gr", "customer", "S"),
    ("nikos", "Εστιατόριο Θάλασσα", "Ακτή Τομπάζη 8", "731 32", "Χανιά", "Greece", "Restaurant", "thalassa-chania.gr", "prospect", "M"),
    ("nikos", "Τροφοδοσία Αλεξίου Α.Ε.", "Ακτή Μιαούλη 71", "185 38", "Πειραιάς", "Greece", "Ship supplies", "alexiou-supplies.gr", "customer", "XL"),
    ("nikos", "Φούρνος Ιωάννου", "Αγίας Σοφίας 40", "546 22", "Θεσσαλονίκη", "Greece", "Bakery", "fournos-ioannou.gr", "lost", "S"),
    ("marco", "Grand Hotel Europa B.V.", "Damrak 70", "1012 LM", "Amsterdam", "Netherlands", "Hotel", "grandhoteleuropa.nl", "customer", "XXL"),
    ("marco", "Alpenhof Hotels AG", "Bahnhofstrasse 31", "8001", "Zürich", "Switzerland", "Hotel group", "alpenhof-hotels.ch", "prospect", "XL"),
    ("marco", "Metro Nord Ristorazione S.p.A.", "Viale Monza 255", "20126", "Milano", "Italy", "Contract catering", "metronordristorazione.it", "customer", "XXL"),
    ("marco", "Greenfield Hotels Ltd", "88 Deansgate", "M3 2ER", "Manchester", "United Kingdom", "Hotel group", "greenfieldhotels.co.uk", "nurture", "L"),
]

# Accounts (by position above) that have gone quiet: no contact for this many days.
QUIET = {2: 75, 6: 96, 13: 140, 18: 82, 29: 110, 37: 70}

FIRST_NAMES = {
    "nl": [("Jeroen", "m"), ("Sanne", "f"), ("Pieter", "m"), ("Marieke", "f"), ("Bas", "m"),
           ("Femke", "f"), ("Wouter", "m"), ("Ingrid", "f"), ("Ruud", "m"), ("Lieke", "f"),
           ("Thijs", "m"), ("Annelies", "f"), ("Koen", "m"), ("Esther", "f")],
    "it": [("Giuseppe", "m"), ("Francesca", "f"), ("Luca", "m"), ("Chiara", "f"),
           ("Alessandro", "m"), ("Valentina", "f"), ("Matteo", "m"), ("Sara", "f"),
           ("Davide", "m"), ("Elena", "f"), ("Paolo", "m"), ("Martina", "f")],
    "en": [("James", "m"), ("Sarah", "f"), ("Tom", "m"), ("Emily", "f"), ("Oliver", "m"),
           ("Hannah", "f"), ("Daniel", "m"), ("Claire", "f"), ("Liam", "m"), ("Siobhan", "f"),
           ("Mark", "m"), ("Rachel", "f")],
    "el": [("Γιώργος", "m"), ("Μαρία", "f"), ("Δημήτρης", "m"), ("Ελένη", "f"),
           ("Κώστας", "m"), ("Κατερίνα", "f"), ("Αντώνης", "m"), ("Σοφία", "f"),
           ("Βασίλης", "m"), ("Δέσποινα", "f"), ("Σπύρος", "m"), ("Αθηνά", "f")],
}
LAST_NAMES = {
    "nl": ["Bakker", "Visser", "Smit", "Meijer", "de Groot", "Mulder", "van Leeuwen",
           "Kok", "Hendriks", "Dekker", "van der Linden", "Vermeulen", "Peeters", "Claes"],
    "it": ["Ferrari", "Russo", "Galli", "Fontana", "Marino", "Greco", "Lombardi", "Barbieri",
           "Rinaldi", "Costa", "Gallo", "Caruso"],
    "en": ["Walsh", "Hughes", "Turner", "Murphy", "Clarke", "Bennett", "O'Brien", "Harris",
           "Patel", "Wright", "Kelly", "Shaw"],
}
# Greek surnames change with gender: (men's form, women's form, Latin for email addresses).
GREEK_SURNAMES = [("Παπαδόπουλος", "Παπαδοπούλου", "papadopoulos"),
                  ("Γεωργίου", "Γεωργίου", "georgiou"), ("Οικονόμου", "Οικονόμου", "oikonomou"),
                  ("Αλεξίου", "Αλεξίου", "alexiou"), ("Ιωάννου", "Ιωάννου", "ioannou"),
                  ("Μαυρίδης", "Μαυρίδου", "mavridis"), ("Βλάχος", "Βλάχου", "vlachos"),
                  ("Κωνσταντίνου", "Κωνσταντίνου", "konstantinou"),
                  ("Νικολαΐδης", "Νικολαΐδου", "nikolaidis"), ("Δημητρίου", "Δημητρίου", "dimitriou")]
GREEK_LATIN = {"Γιώργος": "giorgos", "Μαρία": "maria", "Δημήτρης": "dimitris", "Ελένη": "eleni",
               "Κώστας": "kostas", "Κατερίνα": "katerina", "Αντώνης": "antonis",
               "Σοφία": "sofia", "Βασίλης": "vasilis", "Δέσποινα": "despoina",
               "Σπύρος": "spyros", "Αθηνά": "athina"}

# Positions in the account's language with the part they usually play in the DMU.
POSITIONS = {
    "nl": [("Eigenaar", "decision_maker"), ("Inkoper", "buyer"), ("Chef-kok", "user"),
           ("Bedrijfsleider", "influencer"), ("Officemanager", "gatekeeper"),
           ("Sous-chef", "champion"), ("Financieel medewerker", "influencer")],
    "it": [("Titolare", "decision_maker"), ("Responsabile acquisti", "buyer"), ("Chef", "user"),
           ("Direttore di sala", "influencer"), ("Segreteria", "gatekeeper"),
           ("Sous-chef", "champion"), ("Amministrazione", "influencer")],
    "en": [("Managing director", "decision_maker"), ("Purchasing manager", "buyer"),
           ("Head chef", "user"), ("Operations manager", "influencer"),
           ("Office manager", "gatekeeper"), ("Sous chef", "champion"),
           ("Accounts payable", "influencer")],
    "el": [("Ιδιοκτήτης", "decision_maker"), ("Υπεύθυνος αγορών", "buyer"), ("Σεφ", "user"),
           ("Διευθυντής", "influencer"), ("Γραμματεία", "gatekeeper"),
           ("Βοηθός σεφ", "champion"), ("Λογιστήριο", "influencer")],
}

PERSONAL_NOTES = [
    "Two children at primary school; prefers calls before 10:00.",
    "Keen cyclist, rides the Amstel Gold route every spring.",
    "Coffee, never tea. Allergic to nuts: mind it with samples.",
    "Plays in a brass band on Saturdays; do not plan visits then.",
    "Studied hotel management in Lausanne; likes talking about it.",
    "Supports the local football club; season ticket holder.",
    "Just became a grandparent (daughter, in March).",
    "Prefers WhatsApp to email for quick questions.",
    "Runs a half marathon every autumn.",
    "Sails at weekends; away most of August.",
]

TAGS = ["horeca", "retail", "key account", "seasonal", "organic", "export", "tender",
        "samples sent", "newsletter", "franchise"]
PAYMENT_TERMS = ["30 days net", "14 days net", "60 days end of month", "Direct debit, 30 days"]
DELIVERY_TERMS = ["DAP, free above €500", "DAP, free above €750", "EXW Rotterdam",
                  "Delivered weekly on Tuesdays", "DAP, €25 delivery charge below €300"]

DOSSIERS = [
    {"vision": "Wants to grow from one to three shops within two years; invests in a central "
               "production kitchen.",
     "purchasing_policy": "Buys monthly on a framework agreement; two suppliers per category, "
                          "price checked every quarter.",
     "competitors": "Sligro for dry goods; a local paper supplier for packaging.",
     "credit_notes": "Pays on time. Credit limit €15,000 approved by finance."},
    {"vision": "Sustainability first: plastic-free packaging by next year, local ingredients.",
     "purchasing_policy": "Purchasing committee of owner, chef and office manager; tenders "
                          "above €25,000 a year.",
     "competitors": "Hanos and a regional wholesaler; we win on service and lead time.",
     "credit_notes": "Occasional late payments in winter; reminder after 10 days works."},
    {"vision": "Premium positioning; renovating the breakfast room and the kitchen.",
     "purchasing_policy": "Central purchasing at group level, local chef decides on "
                          "ingredients within a listed range.",
     "competitors": "Metro, Bidfood.",
     "credit_notes": "Solid: insured up to €50,000."},
    {"vision": "Family business, second generation taking over; open to new product lines.",
     "purchasing_policy": "Owner decides everything; likes to see samples first.",
     "competitors": "Buys cleaning products at a cash & carry.",
     "credit_notes": "Small orders, always paid within 14 days."},
]

# Timeline stories: kind, subject, summary, agreements, next step.
STORIES = [
    ("call", "Spring order", "Went through the spring assortment; they expect more terrace business this year.",
     "Send the updated price list for packaging.", "Follow up on the price list"),
    ("meeting", "Annual review", "Reviewed last year's volumes and service. Satisfied with delivery, less with the invoicing.",
     "We move them to one consolidated invoice per month.", "Confirm the new invoicing in writing"),
    ("visit", "Visit to the kitchen", "Saw the new kitchen line; the chef wants to try our heavy-duty degreaser.",
     "Samples of the degreaser and the compostable containers.", "Bring samples on the next visit"),
    ("call", "Complaint about a late delivery", "Tuesday's delivery came a day late; they had to buy flour elsewhere.",
     "Credit note for the delivery charge; fixed delivery window 7:00–9:00.", "Check the next two deliveries arrive on time"),
    ("note", "Heard they are opening a second location", "Via a supplier: second location planned after the summer.",
     "", "Ask about equipment needs for the new location"),
    ("meeting", "Quote discussion", "Discussed the quote for disposables; price is fine, they want a longer validity.",
     "Quote valid 60 days instead of 30.", "Revise the quote"),
    ("call", "Newsletter follow-up", "Called after the newsletter about the autumn range; interested in the seasonal boxes.",
     "Send the seasonal catalogue.", ""),
    ("visit", "Introduction of the new buyer", "Met the new buyer, who takes over purchasing from the owner.",
     "Monthly call with the buyer on the first Monday.", "Plan the monthly call"),
    ("call", "Payment reminder", "Invoice of last month is 20 days overdue; they promised payment this week.",
     "Payment by Friday.", "Check with finance whether it was paid"),
    ("meeting", "Tender preparation", "They are tendering the cleaning products for all locations next quarter.",
     "We receive the tender documents once published.", "Prepare references for the tender"),
    ("note", "Competitor offered a lower price", "The chef mentioned a competitor quoting 8% lower on napkins.",
     "", "Check the margin on napkins with the manager"),
    ("call", "Sample feedback", "Samples were well received; the compostable cups leak with hot soup.",
     "Try the double-walled version instead.", "Send the double-walled cups"),
]
TASKS = ["Call about the spring order", "Send the revised quote", "Bring samples of the compostable range",
         "Confirm the delivery window in writing", "Ask how the new kitchen line is working",
         "Prepare the annual review", "Check the overdue invoice with finance",
         "Introduce the seasonal gift boxes", "Plan a visit with the new buyer",
         "Send the tender references", "Call back about the cleaning contract",
         "Ask for feedback on the last delivery"]


def load_demo(only_if_empty=False):
    """Load the demo company; returns a one-line summary for the command line."""
    if Account.select().exists():
        if only_if_empty:
            return "Demo data not loaded: the database already has accounts."
        first_domain = ACCOUNTS[0][7]
        if AccountDomain.select().where(AccountDomain.domain == first_domain).exists():
            return "Demo data is already loaded; nothing changed."
    rng = random.Random(SEED)
    today = datetime.date.today()
    with db.atomic():
        users = _users()
        accounts = _accounts(rng, users)
        birthdays = []  # the days of this week's birthdays so far
        contacts = {account.id: _contacts(rng, account, today, birthdays)
                    for account in accounts}
        entries = sum(_timeline(rng, index, account, users, contacts[account.id])
                      for index, account in enumerate(accounts))
        tasks = _tasks(rng, accounts, users, contacts, today)
        products, quotes = load_demo_quotes(accounts, contacts, users, random.Random(SEED + 1))
        mail = load_demo_mail(accounts, contacts)
    people = sum(len(c) for c in contacts.values())
    return (f"Demo data loaded: {len(users)} users, {len(accounts)} accounts, {people} contacts, "
            f"{entries} timeline entries, {tasks} tasks, {mail} received emails, "
            f"{products} products, {quotes} quotes. "
            f"Log in as anna@example.com or admin@example.com with the password {DEMO_PASSWORD}.")


def _users():
    """The team, by the part of their email address before the @; existing users are kept."""
    password_hash = None
    users = {}
    for email, name, role, language, timezone, away in USERS:
        user = User.by_email(email)
        if user is None:
            if password_hash is None:  # argon2 is slow on purpose: hash once for everyone
                probe = User()
                probe.set_password(DEMO_PASSWORD)
                password_hash = probe.password_hash
            user = User.create(email=email, name=name, role=role, language=language,
                               timezone=timezone, away=away, password_hash=password_hash)
        users[email.split("@")[0]] = user
    return users


def _accounts(rng, users):
    accounts = []
    for index, (owner, name, street, postal_code, city, country, industry, domain, stage,
                size) in enumerate(ACCOUNTS):
        language, currency, vat_prefix, vat_digits, _, _ = COUNTRIES[country]
        stand_in = _stand_in_for(owner, index)
        tags = rng.sample(TAGS, rng.randint(1, 3))
        if size in ("XL", "XXL"):
            tags = ["key account"] + [t for t in tags if t != "key account"]
        vat = vat_prefix + "".join(str(rng.randint(0, 9)) for _ in range(vat_digits))
        if country == "Netherlands":
            vat += "B01"
        data = {"name": name, "stage": stage, "size_class": size,
                "owner": str(users[owner].id),
                "stand_in": str(users[stand_in].id) if stand_in else "",
                "industry": industry, "street": street, "postal_code": postal_code,
                "city": city, "country": country, "website": f"https://www.{domain}",
                "email_domains": domain, "vat_number": vat, "language": language,
                "currency": currency, "payment_terms": rng.choice(PAYMENT_TERMS),
                "delivery_terms": rng.choice(DELIVERY_TERMS), "tags": ", ".join(tags)}
        if index % 3 == 0 or size in ("XL", "XXL"):
            data.update(DOSSIERS[index % len(DOSSIERS)])
        account = save_account(clean_account(data))
        account.created_at = utcnow() - datetime.timedelta(days=400 - index)
        account.save(only=[Account.created_at])
        if stage in ("customer", "prospect") and rng.random() < 0.6:
            set_team_member(account, users["sofia"], "Inside sales: quotes and orders")
        if size in ("L", "XL", "XXL"):
            set_team_member(account, users["femke"], "Credit control")
        accounts.append(account)
    return accounts


def _stand_in_for(owner, index):
    """Anna and Giulia cover for each other; Anna stands in for Nikos (away this week)."""
    return {"anna": "giulia" if index % 2 else "sofia", "giulia": "anna",
            "nikos": "anna" if index % 2 == 0 else "marco", "marco": "anna"}[owner]


def _contacts(rng, account, today, birthdays):
    language = account.language
    domain = ACCOUNTS_BY_NAME[account.name][7]
    country = account.country
    _, _, _, _, phone_prefix, areas = COUNTRIES[country]
    positions = POSITIONS[language]
    count = rng.randint(2, 5)
    chosen = [positions[0]] + rng.sample(positions[1:], count - 1)
    people = []
    used = set()
    for number, (position, dmu_role) in enumerate(chosen):
        first, last, local = _person(rng, language, used)
        birthday = None
        if rng.random() < 0.55:
            birthday = _birthday(rng, today, birthdays)
        data = {
            "first_name": first, "last_name": last, "position": position,
            "dmu_role": dmu_role if number < 4 else "",
            "emails": f"{local}@{domain}",
            "phone": f"{phone_prefix} {rng.choice(areas)} {rng.randint(200, 899)} "
                     f"{rng.randint(1000, 9999)}",
            "mobile": _mobile(rng, phone_prefix) if rng.random() < 0.6 else "",
            "birthday": birthday.isoformat() if birthday else "",
            "personal_notes": rng.choice(PERSONAL_NOTES) if rng.random() < 0.35 else "",
            "newsletter_consent": "1" if rng.random() < 0.6 else "",
        }
        if data["newsletter_consent"]:
            data["consent_source"] = rng.choice(["form", "email", "verbal", "contract"])
        contact = save_contact(clean_contact(data), Contact(account=account))
        people.append(contact)
    return people


ACCOUNTS_BY_NAME = {row[1]: row for row in ACCOUNTS}


def _person(rng, language, used):
    """A first name, a last name and the local part of their email address, new at the account."""
    while True:
        first, gender = rng.choice(FIRST_NAMES["el" if language == "el" else language])
        if language == "el":
            male, female, latin = rng.choice(GREEK_SURNAMES)
            last = male if gender == "m" else female
            local = f"{GREEK_LATIN[first]}.{latin}"
        else:
            last = rng.choice(LAST_NAMES[language])
            local = f"{_ascii(first)}.{_ascii(last)}"
        if local not in used:
            used.add(local)
            return first, last, local


def _ascii(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


def _mobile(rng, prefix):
    mobile = {"+31": "6", "+32": "470", "+39": "347", "+30": "69", "+44": "7700",
              "+353": "87", "+41": "79"}[prefix]
    return f"{prefix} {mobile} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _birthday(rng, today, birthdays):
    """A birthday; six of them fall in the coming week, so My day has some to show."""
    year = rng.randint(1962, 1994)
    if len(birthdays) < 6 and rng.random() < 0.15:
        day = today + datetime.timedelta(days=len(birthdays))
        birthdays.append(day)
    else:
        day = datetime.date(2001, rng.randint(1, 12), rng.randint(1, 28))
    if day.month == 2 and day.day == 29:
        year = 1988
    return datetime.date(year, day.month, day.day)


def _timeline(rng, index, account, users, contacts):
    """Contact moments over the last year; quiet accounts stop well before today."""
    owner = account.owner
    if account.stage == "suspect":
        count = rng.randint(0, 2)
    else:
        count = rng.randint(4, 12)
    newest = QUIET.get(index, rng.randint(1, 30))
    if account.stage in ("lost", "nurture"):
        newest = max(newest, rng.randint(90, 200))
    days = sorted({newest} | {rng.randint(newest, 360) for _ in range(count - 1)}) if count else []
    others = [users["sofia"], users["marco"]]
    for days_ago in days:
        kind, subject, summary, agreements, next_step = rng.choice(STORIES)
        author = owner if rng.random() < 0.8 else rng.choice(others)
        local = datetime.datetime.combine(
            datetime.date.today() - datetime.timedelta(days=days_ago),
            datetime.time(rng.randint(8, 16), rng.choice((0, 15, 30, 45))))
        occurred = min(to_utc(local, owner.timezone), utcnow() - datetime.timedelta(minutes=5))
        participants = rng.sample(contacts, min(len(contacts), rng.randint(1, 2))) \
            if kind != "note" else []
        record_entry(account, author, {
            "kind": kind, "occurred_at": occurred, "subject": subject, "summary": summary,
            "agreements": agreements, "next_step": next_step,
            "contacts": [c.id for c in participants]})
    return len(days)


def _tasks(rng, accounts, users, contacts, today):
    """Open and done follow-ups; Anna's My day has some of everything."""
    plan = []  # (account, owner, days from today, done)
    by_owner = {}
    for account in accounts:
        by_owner.setdefault(account.owner_id, []).append(account)
    anna = [a for a in by_owner[users["anna"].id] if a.stage != "lost"]
    for offset, done in ((-6, False), (-3, False), (-1, False), (0, False), (0, False),
                         (0, False), (1, False), (2, False), (4, False), (6, False),
                         (12, False), (25, False), (-10, True), (-5, True), (-2, True),
                         (-1, True)):
        plan.append((rng.choice(anna), users["anna"], offset, done))
    # Nikos is away: Anna stands in for some of his accounts, so his tasks there reach her.
    covered = [a for a in by_owner[users["nikos"].id] if a.stand_in_id == users["anna"].id]
    for offset in (-2, 0, 3):
        plan.append((rng.choice(covered), users["nikos"], offset, False))
    for name in ("giulia", "marco", "nikos"):
        mine = by_owner[users[name].id]
        for offset in (-4, -1, 0, 1, 3, 5, 9, -7):
            plan.append((rng.choice(mine), users[name], offset, offset == -7))
    for account in rng.sample(accounts, 6):  # inside sales prepares quotes for the owners
        plan.append((account, users["sofia"], rng.randint(-2, 6), False))
    for account, owner, offset, done in plan:
        people = contacts[account.id]
        contact = rng.choice(people) if rng.random() < 0.7 else None
        task = create_task(account, {"owner": owner,
                                     "due_date": today + datetime.timedelta(days=offset),
                                     "objective": rng.choice(TASKS),
                                     "contact": contact.id if contact else None},
                           created_by=account.owner)
        if done:
            task.set_done(True)
    return len(plan)

