"""The demo's offer work: company details, a catalogue, prices and margins, and quotes.

Everything goes through the functions the app itself uses — clean_company and set_logo,
clean_product and save_product, clean_agreement and set_agreement, clean_margin_policy,
create_quote, add_product_line, submit, approve, reject, send_quote (PDF and outbox),
accept, decline, revise, expire_due_quotes — so every row is one the app would write.

A quote's story happens in the past (sent a month ago, accepted a week later), but those
functions work now; so each story is played now, with the validity its start date gives it,
and its moments are then moved back to the days it tells of: the quote's dates, its timeline
entries (through update_entry, which keeps the last-contact dates right) and its emails. Every
email is recorded as sent at its moment, the newest too: the demo's customers have
real-looking addresses, and a mail server configured on a demo database must not mail them.
Two traces of the load day remain: the date printed on each stored PDF, and the expired
quote's email, which names the validity it had when it went out (a date already past cannot
be sent).
"""
import datetime
from decimal import Decimal

from flask_babel import force_locale

from .db import db, to_utc, utcnow
from .emails import Email
from .pricing import MarginPolicy, RoleDiscountLimit, clean_agreement, clean_margin_policy, \
    save_margin_policy, set_agreement
from .products import Product, clean_product, save_product
from .quotes import (VALIDITY_DAYS, Quote, accept, add_free_line, add_product_line,
                     clean_line, clean_quote_header, create_quote, decline, expire_due_quotes,
                     reject, revise, submit, update_header, update_lines)
from .quotes import approve as approve_quote
from .settings import clean_company, company, save_company, set_logo
from .timeline import TimelineEntry, update_entry

COMPANY = {
    "name": "Noordzee & Co.",
    "address": "Noordzeeweg 14\n3089 KB Rotterdam\nNederland",
    "email": "sales@example.com",
    "phone": "+31 10 555 0142",
    "website": "https://noordzee.example.com",
    "vat_number": "NL859301476B01",
    "bank_account": "NL97 RABO 0318 7654 32",
    "accent_color": "#0f5e73",
}

# A small logo drawn here, so the demo needs no file and no network: two waves and the name.
LOGO_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="300" height="64" viewBox="0 0 300 64">
  <rect x="0" y="0" width="64" height="64" rx="12" fill="#0f5e73"/>
  <path d="M9 27 q7 -8 15 0 t15 0 t15 0" fill="none" stroke="#ffffff" stroke-width="4"
        stroke-linecap="round"/>
  <path d="M9 41 q7 -8 15 0 t15 0 t15 0" fill="none" stroke="#9fd6e0" stroke-width="4"
        stroke-linecap="round"/>
  <text x="76" y="33" font-family="Georgia, 'DejaVu Serif', serif" font-size="22"
        font-weight="bold" fill="#0b2f3a">Noordzee &amp; Co.</text>
  <text x="77" y="51" font-family="Helvetica, Arial, 'DejaVu Sans', sans-serif" font-size="10"
        letter-spacing="1.5" fill="#4a6b75">WHOLESALE · ROTTERDAM</text>
</svg>
""".encode()

# Approval when the net total is above €7,500, a line earns under 10 % or the quote under
# 15 %, or a line discount goes beyond the author's role.
POLICY = {"min_line_margin_pct": "10", "min_quote_margin_pct": "15",
          "approval_threshold": "7500", "max_discount_account_manager": "10",
          "max_discount_inside_sales": "5", "max_discount_manager": "20",
          "max_discount_finance": "20", "max_discount_admin": "25"}

PACKAGING, INGREDIENTS, CLEANING, EQUIPMENT, TABLEWARE = (
    "Packaging", "Baking ingredients", "Cleaning", "Kitchen equipment", "Tableware")

# code, category, unit, list price, cost price, VAT %, stock, reserved, lead time (days),
# active, {language: (name, description)} — English is the catalogue's own text.
PRODUCTS = [
    ("PK-1001", PACKAGING, "box", "38.50", "24.90", "21", "420", "60", 3, True, {
        "en": ("Kraft bread bag 1 kg, box of 1000", "Grease-resistant, with a window."),
        "nl": ("Kraft broodzak 1 kg, doos à 1000", "Vetbestendig, met venster."),
        "it": ("Sacchetto pane in carta kraft 1 kg, cartone da 1000",
               "Resistente ai grassi, con finestra."),
        "el": ("Χάρτινη σακούλα ψωμιού kraft 1 kg, κιβώτιο 1000 τεμ.",
               "Αντιλιπαντική, με παράθυρο.")}),
    ("PK-1002", PACKAGING, "box", "42.00", "27.30", "21", "180", "40", 5, True, {
        "en": ("Cake box white 25 × 25 × 10 cm, 100 pcs", ""),
        "nl": ("Taartdoos wit 25 × 25 × 10 cm, 100 stuks", ""),
        "it": ("Scatola per torte bianca 25 × 25 × 10 cm, 100 pezzi", ""),
        "el": ("Κουτί τούρτας λευκό 25 × 25 × 10 εκ., 100 τεμ.", "")}),
    ("PK-1010", PACKAGING, "box", "64.00", "44.80", "21", "35", "28", 14, True, {
        "en": ("Compostable soup cup 500 ml, box of 500", "Sugarcane fibre, for hot soup."),
        "nl": ("Composteerbare soepbeker 500 ml, doos à 500", "Suikerrietvezel, voor hete soep."),
        "it": ("Bicchiere per zuppa compostabile 500 ml, cartone da 500",
               "Fibra di canna da zucchero, per zuppe calde."),
        "el": ("Κομποστοποιήσιμο κύπελλο σούπας 500 ml, κιβώτιο 500 τεμ.",
               "Από ίνες ζαχαροκάλαμου, για ζεστή σούπα.")}),
    ("PK-1011", PACKAGING, "box", "29.00", "19.70", "21", "60", "10", 14, True, {
        "en": ("Lid for soup cup 500 ml, box of 500", ""),
        "nl": ("Deksel voor soepbeker 500 ml, doos à 500", ""),
        "it": ("Coperchio per bicchiere zuppa 500 ml, cartone da 500", ""),
        "el": ("Καπάκι για κύπελλο σούπας 500 ml, κιβώτιο 500 τεμ.", "")}),
    ("PK-1020", PACKAGING, "box", "96.00", "63.40", "21", "90", "30", 7, True, {
        "en": ("Double-walled coffee cup 8 oz, box of 1000", ""),
        "nl": ("Dubbelwandige koffiebeker 8 oz, doos à 1000", ""),
        "it": ("Bicchiere caffè doppia parete 8 oz, cartone da 1000", ""),
        "el": ("Διπλότοιχο ποτήρι καφέ 8 oz, κιβώτιο 1000 τεμ.", "")}),
    ("PK-1040", PACKAGING, "box", "27.50", "15.60", "21", "300", "45", 3, True, {
        "en": ("Baking paper sheets 40 × 60 cm, 500 sheets", "Silicone-coated, up to 250 °C."),
        "nl": ("Bakpapier vellen 40 × 60 cm, 500 vel", "Gesiliconiseerd, tot 250 °C."),
        "it": ("Carta forno in fogli 40 × 60 cm, 500 fogli", "Siliconata, fino a 250 °C."),
        "el": ("Λαδόχαρτο σε φύλλα 40 × 60 εκ., 500 φύλλα", "Σιλικονούχο, έως 250 °C.")}),
    ("BI-2001", INGREDIENTS, "bag", "21.80", "17.40", "9", "640", "200", 2, True, {
        "en": ("Wheat flour type 550, 25 kg", "For bread and rolls; 11.5 % protein."),
        "nl": ("Tarwebloem type 550, 25 kg", "Voor brood en broodjes; 11,5 % eiwit."),
        "it": ("Farina di frumento tipo 550, 25 kg", "Per pane e panini; 11,5 % di proteine."),
        "el": ("Αλεύρι σίτου τύπου 550, 25 κιλά", "Για ψωμί και ψωμάκια· πρωτεΐνη 11,5 %.")}),
    ("BI-2002", INGREDIENTS, "bag", "34.60", "27.10", "9", "120", "20", 5, True, {
        "en": ("Wholemeal spelt flour, 25 kg", "Organic."),
        "nl": ("Volkoren speltmeel, 25 kg", "Biologisch."),
        "it": ("Farina integrale di farro, 25 kg", "Biologica."),
        "el": ("Αλεύρι ζέας ολικής άλεσης, 25 κιλά", "Βιολογικό.")}),
    ("BI-2010", INGREDIENTS, "block", "78.00", "64.50", "9", "45", "38", 4, True, {
        "en": ("Butter 82 % fat, 10 kg block", "Chilled delivery."),
        "nl": ("Roomboter 82 % vet, blok van 10 kg", "Gekoeld geleverd."),
        "it": ("Burro 82 % di grassi, panetto da 10 kg", "Consegna refrigerata."),
        "el": ("Βούτυρο 82 % λιπαρά, μπλοκ 10 κιλών", "Παράδοση σε ψύξη.")}),
    ("BI-2020", INGREDIENTS, "bag", "119.00", "86.90", "9", "70", "12", 6, True, {
        "en": ("Dark chocolate callets 54 %, 10 kg", ""),
        "nl": ("Pure chocolade callets 54 %, 10 kg", ""),
        "it": ("Cioccolato fondente in gocce 54 %, 10 kg", ""),
        "el": ("Κουβερτούρα μαύρη σε δισκία 54 %, 10 κιλά", "")}),
    ("BI-2030", INGREDIENTS, "box", "58.40", "41.20", "9", "85", "15", 3, True, {
        "en": ("Instant dry yeast, 20 × 500 g", ""),
        "nl": ("Instant droge gist, 20 × 500 g", ""),
        "it": ("Lievito secco istantaneo, 20 × 500 g", ""),
        "el": ("Ξηρή μαγιά στιγμιαία, 20 × 500 γρ.", "")}),
    ("BI-2040", INGREDIENTS, "bag", "32.90", "26.80", "9", "210", "30", 2, True, {
        "en": ("Cane sugar, 25 kg", ""),
        "nl": ("Rietsuiker, 25 kg", ""),
        "it": ("Zucchero di canna, 25 kg", ""),
        "el": ("Ζάχαρη από ζαχαροκάλαμο, 25 κιλά", "")}),
    ("BI-2050", INGREDIENTS, "bottle", "46.00", "27.90", "9", "48", "6", 10, True, {
        "en": ("Bourbon vanilla extract, 1 l", ""),
        "nl": ("Bourbon-vanille-extract, 1 l", ""),
        "it": ("Estratto di vaniglia Bourbon, 1 l", ""),
        "el": ("Εκχύλισμα βανίλιας Bourbon, 1 λίτρο", "")}),
    ("CL-3001", CLEANING, "can", "24.90", "13.80", "21", "210", "40", 3, True, {
        "en": ("Heavy-duty degreaser, 5 l", "For ovens, grills and extractor hoods."),
        "nl": ("Krachtige ontvetter, 5 l", "Voor ovens, grills en afzuigkappen."),
        "it": ("Sgrassatore professionale, 5 l", "Per forni, griglie e cappe aspiranti."),
        "el": ("Ισχυρό απολιπαντικό, 5 λίτρα", "Για φούρνους, ψησταριές και απορροφητήρες.")}),
    ("CL-3002", CLEANING, "can", "39.50", "24.10", "21", "150", "25", 3, True, {
        "en": ("Dishwasher detergent, 10 l", "For professional dishwashers, with a dosing pump."),
        "nl": ("Vaatwasmiddel, 10 l", "Voor professionele vaatwassers, met doseerpomp."),
        "it": ("Detergente per lavastoviglie, 10 l",
               "Per lavastoviglie professionali, con pompa dosatrice."),
        "el": ("Απορρυπαντικό πλυντηρίου πιάτων, 10 λίτρα",
               "Για επαγγελματικά πλυντήρια, με αντλία δοσομέτρησης.")}),
    ("CL-3003", CLEANING, "can", "21.00", "12.90", "21", "130", "10", 3, True, {
        "en": ("Rinse aid, 5 l", ""),
        "nl": ("Naglansmiddel, 5 l", ""),
        "it": ("Brillantante, 5 l", ""),
        "el": ("Λαμπρυντικό, 5 λίτρα", "")}),
    ("CL-3010", CLEANING, "box", "54.00", "35.60", "21", "95", "20", 5, True, {
        "en": ("Surface disinfectant spray, 12 × 750 ml", ""),
        "nl": ("Oppervlaktedesinfectie spray, 12 × 750 ml", ""),
        "it": ("Disinfettante spray per superfici, 12 × 750 ml", ""),
        "el": ("Απολυμαντικό σπρέι επιφανειών, 12 × 750 ml", "")}),
    ("CL-3020", CLEANING, "box", "62.00", "46.10", "21", "40", "32", 10, True, {
        "en": ("Nitrile gloves blue, size M, 10 × 100", ""),
        "nl": ("Nitril handschoenen blauw, maat M, 10 × 100", ""),
        "it": ("Guanti in nitrile blu, taglia M, 10 × 100", ""),
        "el": ("Γάντια νιτριλίου μπλε, μέγεθος M, 10 × 100", "")}),
    ("KE-4001", EQUIPMENT, "pc", "8950.00", "6620.00", "21", "2", "1", 21, True, {
        "en": ("Combi oven 10 × GN 1/1, electric",
               "Steam and convection, core probe, automatic cleaning."),
        "nl": ("Combisteamer 10 × GN 1/1, elektrisch",
               "Stoom en hete lucht, kerntemperatuurvoeler, automatische reiniging."),
        "it": ("Forno combinato 10 × GN 1/1, elettrico",
               "Vapore e convezione, sonda al cuore, lavaggio automatico."),
        "el": ("Φούρνος combi 10 × GN 1/1, ηλεκτρικός",
               "Ατμός και θερμός αέρας, θερμόμετρο πυρήνα, αυτόματος καθαρισμός.")}),
    ("KE-4002", EQUIPMENT, "pc", "2480.00", "1760.00", "21", "3", "1", 10, True, {
        "en": ("Planetary mixer 20 l", "With hook, paddle and whisk."),
        "nl": ("Planeetmenger 20 l", "Met haak, spatel en garde."),
        "it": ("Impastatrice planetaria 20 l", "Con gancio, spatola e frusta."),
        "el": ("Πλανητικό μίξερ 20 λίτρων", "Με γάντζο, φτερό και σύρμα.")}),
    ("KE-4010", EQUIPMENT, "pc", "18.90", "11.20", "21", "160", "24", 3, True, {
        "en": ("Gastronorm container GN 1/1, 65 mm, stainless steel", ""),
        "nl": ("Gastronormbak GN 1/1, 65 mm, rvs", ""),
        "it": ("Bacinella gastronorm GN 1/1, 65 mm, acciaio inox", ""),
        "el": ("Δοχείο gastronorm GN 1/1, 65 mm, ανοξείδωτο", "")}),
    ("KE-4020", EQUIPMENT, "pc", "64.00", "39.50", "21", "36", "4", 5, True, {
        "en": ("Chef's knife 21 cm", ""),
        "nl": ("Koksmes 21 cm", ""),
        "it": ("Coltello da chef 21 cm", ""),
        "el": ("Μαχαίρι σεφ 21 εκ.", "")}),
    ("KE-4030", EQUIPMENT, "pc", "690.00", "482.00", "21", "0", "0", 14, True, {
        "en": ("Induction hob 3.5 kW", "Countertop, 230 V."),
        "nl": ("Inductiekookplaat 3,5 kW", "Tafelmodel, 230 V."),
        "it": ("Piano a induzione 3,5 kW", "Da banco, 230 V."),
        "el": ("Εστία επαγωγής 3,5 kW", "Επιτραπέζια, 230 V.")}),
    ("KE-4099", EQUIPMENT, "pc", "1890.00", "1310.00", "21", "0", "0", 30, False, {
        "en": ("Bread slicer, 12 mm slices", "Discontinued by the manufacturer."),
        "nl": ("Broodsnijmachine, sneden van 12 mm", "Niet meer leverbaar."),
        "it": ("Affettatrice per pane, fette da 12 mm", "Fuori produzione."),
        "el": ("Μηχανή κοπής ψωμιού, φέτες 12 mm", "Εκτός παραγωγής.")}),
    ("TW-5001", TABLEWARE, "box", "45.00", "27.40", "21", "140", "30", 7, True, {
        "en": ("Porcelain dinner plate 27 cm, box of 6", ""),
        "nl": ("Porseleinen dinerbord 27 cm, doos à 6", ""),
        "it": ("Piatto piano in porcellana 27 cm, confezione da 6", ""),
        "el": ("Πορσελάνινο πιάτο φαγητού 27 εκ., κουτί 6 τεμ.", "")}),
    ("TW-5002", TABLEWARE, "box", "39.00", "23.80", "21", "95", "15", 7, True, {
        "en": ("Coffee cup and saucer 18 cl, box of 6", ""),
        "nl": ("Koffiekop en schotel 18 cl, doos à 6", ""),
        "it": ("Tazza da caffè con piattino 18 cl, confezione da 6", ""),
        "el": ("Φλιτζάνι καφέ με πιατάκι 18 cl, κουτί 6 τεμ.", "")}),
    ("TW-5010", TABLEWARE, "box", "29.50", "18.20", "21", "120", "20", 7, True, {
        "en": ("Wine glass 35 cl, box of 6", ""),
        "nl": ("Wijnglas 35 cl, doos à 6", ""),
        "it": ("Calice da vino 35 cl, confezione da 6", ""),
        "el": ("Ποτήρι κρασιού 35 cl, κουτί 6 τεμ.", "")}),
    ("TW-5020", TABLEWARE, "set", "74.00", "49.60", "21", "30", "6", 10, True, {
        "en": ("Cutlery set, 24 pieces, stainless steel", ""),
        "nl": ("Bestekset 24-delig, rvs", ""),
        "it": ("Set di posate 24 pezzi, acciaio inox", ""),
        "el": ("Σετ μαχαιροπίρουνων 24 τεμ., ανοξείδωτο", "")}),
    ("TW-5030", TABLEWARE, "pack", "12.80", "8.40", "21", "400", "50", 3, True, {
        "en": ("Linen-look napkins 40 × 40 cm, 50 pcs", ""),
        "nl": ("Servetten linnenlook 40 × 40 cm, 50 stuks", ""),
        "it": ("Tovaglioli effetto lino 40 × 40 cm, 50 pezzi", ""),
        "el": ("Χαρτοπετσέτες τύπου λινού 40 × 40 εκ., 50 τεμ.", "")}),
    ("TW-5099", TABLEWARE, "box", "26.00", "15.90", "21", "0", "0", 0, False, {
        "en": ("Espresso cup 7 cl, box of 12", "Replaced by the 8 cl model."),
        "nl": ("Espressokopje 7 cl, doos à 12", "Vervangen door het model van 8 cl."),
        "it": ("Tazzina da espresso 7 cl, confezione da 12", "Sostituita dal modello da 8 cl."),
        "el": ("Φλιτζάνι εσπρέσο 7 cl, κουτί 12 τεμ.", "Αντικαταστάθηκε από το μοντέλο 8 cl.")}),
]

# account, category or product code, discount %
AGREEMENTS = [
    ("Bakkerij Van den Berg", INGREDIENTS, "6"),
    ("Bakkerij Van den Berg", PACKAGING, "4"),
    ("Patisserie Smit", "BI-2020", "5"),
    ("Van Dijk Horeca B.V.", CLEANING, "5"),
    ("Van Dijk Horeca B.V.", EQUIPMENT, "8"),
    ("Van Dijk Horeca B.V.", TABLEWARE, "10"),
    ("Panificio Esposito", INGREDIENTS, "5"),
    ("Hotel Bellavista S.p.A.", TABLEWARE, "12"),
    ("Hotel Bellavista S.p.A.", "CL-3002", "7"),
    ("Ξενοδοχείο Αιγαίο Α.Ε.", TABLEWARE, "8"),
    ("Ξενοδοχείο Αιγαίο Α.Ε.", "TW-5001", "12"),
    ("Τροφοδοσία Αλεξίου Α.Ε.", CLEANING, "10"),
    ("Metro Nord Ristorazione S.p.A.", PACKAGING, "9"),
]


def load_demo_quotes(accounts, contacts, users, rng):
    """Company details, policy, catalogue, agreements and quotes: (products, quotes) added."""
    _company()
    _policy()
    products = _products()
    by_name = {a.name: a for a in accounts}
    for account_name, target, pct in AGREEMENTS:
        key = "product" if target in products else "category"
        set_agreement(by_name[account_name], clean_agreement({key: target, "discount_pct": pct}))
    story = _Story(by_name, contacts, users, products, rng)
    story.play()
    return len(products), len(story.quotes)


def _company():
    """Our details and logo, unless someone has already filled them in."""
    row = company()
    if row.name != "Your Company" or row.address:
        return
    save_company(clean_company(COMPANY))
    set_logo(LOGO_SVG)


def _policy():
    """The margin policy and discount limits, unless an admin has already set them."""
    if RoleDiscountLimit.select().exists() or MarginPolicy.select().exists():
        return
    save_margin_policy(clean_margin_policy(POLICY))


def _products():
    """{code: Product}; a code already in the catalogue is kept as it is."""
    existing = {p.code: p for p in Product.select().where(
        Product.code.in_([row[0] for row in PRODUCTS]))}
    products = {}
    for code, category, unit, list_price, cost_price, vat, stock, reserved, lead, active, \
            texts in PRODUCTS:
        if code in existing:
            products[code] = existing[code]
            continue
        name, description = texts["en"]
        data = {"code": code, "name": name, "description": description, "category": category,
                "unit": unit, "list_price": list_price, "cost_price": cost_price,
                "vat_rate": vat, "stock": stock, "reserved": reserved,
                "lead_time_days": str(lead), "active": "1" if active else ""}
        for language in ("nl", "it", "el"):
            data[f"name_{language}"], data[f"description_{language}"] = texts[language]
        products[code] = save_product(clean_product(data))
    return products


class _Story:
    """The quotes, told oldest first so their numbers follow the calendar."""

    def __init__(self, accounts, contacts, users, products, rng):
        self.accounts, self.contacts, self.users = accounts, contacts, users
        self.products, self.rng = products, rng
        self.today = datetime.date.today()
        self.quotes = []
        self.created = {}   # quote id: the day it was started, in days ago

    # --- the stories ---------------------------------------------------------------------

    def play(self):
        self.expired()
        self.declined()
        self.accepted()
        first = self.negotiation_sent()
        self.awaiting_discount()
        self.approved()
        self.rejected()
        self.awaiting_threshold()
        self.draft()
        self.negotiation_revised(first)

    def expired(self):
        """An Irish prospect never answered: sent seven weeks ago, expired three weeks ago."""
        quote = self.new(
            "Riverside Bakehouse Ltd", "anna", 50,
            [("BI-2002", 30), ("BI-2020", 8), ("BI-2050", 6), ("PK-1002", 20), ("PK-1040", 10)],
            intro="Thank you for visiting our stand at the bakery fair. As promised, here is "
                  "our offer for your first order of flour, chocolate and packaging.")
        submit(quote, quote.author)
        email = self.send(quote)
        self.move(quote, approved=50, sent=49, emails=[email])
        expire_due_quotes()
        moment = self.moment(quote.valid_until + datetime.timedelta(days=1), 2, 20, "UTC")
        self.move_entry(self.last_entry(quote), moment)
        Quote.update(updated_at=moment).where(Quote.id == quote.id).execute()

    def declined(self):
        """Giulia's offer for a mixer: the restaurant chose to repair their old one."""
        quote = self.new(
            "Ristorante Il Gabbiano", "giulia", 28,
            [("KE-4002", 1), ("KE-4020", 6), ("KE-4010", 20)],
            intro="Come concordato durante la visita, vi inviamo la nostra offerta per la "
                  "nuova impastatrice e l'attrezzatura da cucina.")
        submit(quote, quote.author)
        email = self.send(quote)
        notice = self.answer(quote, decline, "Per ora abbiamo deciso di far riparare la nostra "
                             "impastatrice. Vi ricontatteremo in primavera per i coltelli.")
        self.move(quote, approved=28, sent=27, answered=22,
                  emails=[email, notice])
        self.move_entry(self.last_entry(quote), quote.answered_at)

    def accepted(self):
        """A Cretan hotel's tableware for the season: over the threshold, approved, accepted."""
        quote = self.new(
            "Ξενοδοχείο Αιγαίο Α.Ε.", "nikos", 24,
            [("TW-5001", 80), ("TW-5002", 60), ("TW-5010", 80), ("TW-5030", 40)],
            intro="Σας ευχαριστούμε για το ενδιαφέρον σας. Ακολουθεί η προσφορά μας για τον "
                  "εξοπλισμό σερβιρίσματος της νέας σεζόν.")
        submit(quote, quote.author)
        approve_quote(quote, self.users["marco"], "Fine: the season starts in April and they "
                      "always pay on time. Over the threshold only because of the volume.")
        email = self.send(quote)
        notice = self.answer(quote, accept, quote.contact.name, "AIG-2026-0418")
        self.move(quote, approved=23, sent=23, answered=17,
                  emails=[email, notice])
        self.move_entry(self.last_entry(quote), quote.answered_at)

    def negotiation_sent(self):
        """Van Dijk's cleaning products, first offer: sent, then discussed on the phone."""
        quote = self.new(
            "Van Dijk Horeca B.V.", "anna", 9,
            [("CL-3001", 60), ("CL-3002", 40), ("CL-3003", 40), ("CL-3010", 20),
             ("CL-3020", 30)],
            intro="Zoals besproken ontvangt u hierbij onze offerte voor de schoonmaakmiddelen "
                  "voor al uw locaties.")
        submit(quote, quote.author)
        email = self.send(quote)
        self.move(quote, approved=9, sent=8, emails=[email])
        return quote

    def negotiation_revised(self, first):
        """The second revision: more degreaser, a sharper detergent price (beyond Anna's
        limit, so finance approves), no rinse aid, dosing pumps installed; sent today."""
        anna = self.users["anna"]
        quote = revise(first, anna)
        self.quotes.append(quote)
        self.created[quote.id] = 1
        lines = {line.product.code: line for line in quote.ordered_lines() if line.product}
        update_lines(quote, {
            lines["CL-3001"].id: clean_line({"quantity": "80"}, partial=True),
            lines["CL-3002"].id: clean_line({"discount_pct": "12"}, partial=True),
        }, remove=[lines["CL-3003"].id], by=anna)
        add_free_line(quote, clean_line({
            "description": "Installatie van twee doseerpompen en instructie van het personeel, "
                           "op locatie", "unit": "pc", "quantity": "1", "unit_price": "350",
            "cost_price": "180", "vat_rate": "21"}, free=True), by=anna)
        terms = "60 days end of month" if quote.payment_terms != "60 days end of month" \
            else "30 days net"
        update_header(quote, clean_quote_header({
            "payment_terms": terms, "valid_until": self.valid_until(quote).isoformat(),
            "introduction": "Zoals telefonisch besproken: meer ontvetter, een scherpere prijs "
                            "op het vaatwasmiddel, geen naglansmiddel meer en de installatie "
                            "van twee doseerpompen, inclusief instructie van uw personeel."},
            quote, partial=True), by=anna)
        submit(quote, anna)
        approve_quote(quote, self.users["femke"], "12 % on the detergent is fine with a "
                      "one-year agreement; the pumps keep them on our detergent.")
        email = self.send(quote)
        self.move(quote, approved=0, sent=0, emails=[email])
        revised = Quote.get_by_id(quote.id).created_at
        Quote.update(updated_at=revised).where(Quote.id == first.id).execute()

    def awaiting_discount(self):
        """Nikos gives a taverna 15 % on plates and glasses: more than his role may give."""
        quote = self.new(
            "Ταβέρνα Ο Γιάννης", "nikos", 6,
            [("TW-5001", 20, "15"), ("TW-5010", 30, "15"), ("TW-5030", 20)],
            intro="Όπως συζητήσαμε, σας στέλνουμε την προσφορά για πιάτα, ποτήρια και "
                  "χαρτοπετσέτες για την ταβέρνα.")
        submit(quote, quote.author)
        self.move(quote, submitted=5)

    def approved(self):
        """Giulia's season offer for a hotel on Lake Como, approved by Marco, not yet sent."""
        quote = self.new(
            "Hotel Bellavista S.p.A.", "giulia", 4,
            [("TW-5001", 60), ("TW-5002", 40), ("TW-5010", 50), ("TW-5020", 20),
             ("KE-4002", 1)],
            intro="In vista della nuova stagione le inviamo la nostra offerta per il servizio "
                  "da tavola e la nuova impastatrice per la pasticceria.")
        submit(quote, quote.author)
        approve_quote(quote, self.users["marco"], "Approved: key account, and the mixer "
                      "replaces their broken one before the season. Deliver the tableware first.")
        self.move(quote, approved=3)

    def rejected(self):
        """Too much discount on yeast: finance sends it back to Giulia with a suggestion."""
        quote = self.new(
            "Panificio Esposito", "giulia", 3,
            [("BI-2001", 60), ("BI-2030", 10, "18"), ("BI-2040", 10)],
            intro="Come d'accordo, ecco la nostra offerta per farina, lievito e zucchero per i "
                  "prossimi due mesi.")
        submit(quote, quote.author)
        reject(quote, self.users["femke"], "18 % on the yeast leaves less than 10 % margin. "
               "Offer 10 % at most, or 12 % if they take 40 boxes over the year.")
        self.move(quote, submitted=2)

    def awaiting_threshold(self):
        """A restaurant's new kitchen line: a combi oven takes it over the threshold."""
        quote = self.new(
            "Restaurant Het Zuiderhuis", "anna", 1,
            [("KE-4001", 1), ("KE-4030", 2), ("KE-4010", 24)],
            intro="Naar aanleiding van uw nieuwe keukenlijn bieden wij u graag de volgende "
                  "apparatuur aan, inclusief installatie.")
        add_free_line(quote, clean_line({
            "description": "Installatie en inbedrijfstelling van de combisteamer",
            "unit": "pc", "quantity": "1", "unit_price": "450", "cost_price": "300",
            "vat_rate": "21"}, free=True), by=quote.author)
        submit(quote, quote.author)
        self.move(quote, submitted=1)

    def draft(self):
        """Anna's spring order for a bakery, still being put together (butter is short)."""
        quote = self.new(
            "Bakkerij Van den Berg", "anna", 0,
            [("BI-2001", 40), ("BI-2010", 12), ("PK-1001", 6), ("PK-1040", 8)])
        self.move(quote)

    # --- the app's own steps -------------------------------------------------------------

    def new(self, account_name, author, created, lines, intro=""):
        """A draft by `author` for the account's buyer (else its first contact), started
        `created` days ago, with lines (code, quantity[, line discount %])."""
        account = self.accounts[account_name]
        people = self.contacts[account.id]
        contact = next((c for c in people if c.dmu_role == "buyer"), people[0])
        quote = create_quote(account, self.users[author], contact)
        self.quotes.append(quote)
        self.created[quote.id] = created
        header = {"introduction": intro} if intro else {}
        valid_until = self.valid_until(quote)
        if valid_until >= self.today and valid_until != quote.valid_until:
            # Valid 30 days from the day it was started: what the email and PDF then say.
            header["valid_until"] = valid_until.isoformat()
        if header:
            update_header(quote, clean_quote_header(header, quote, partial=True),
                          by=quote.author)
        for code, quantity, *discount in lines:
            line = add_product_line(quote, self.products[code], quantity=Decimal(quantity),
                                    by=quote.author)
            if discount:
                update_lines(quote, {line.id: clean_line({"discount_pct": discount[0]},
                                                         partial=True)}, by=quote.author)
        return quote

    def send(self, quote):
        """Send as the author does from the quote page: the timeline's words in their language."""
        from mail.quotes import send_quote  # mail imports models
        with force_locale(quote.author.language):
            return send_quote(quote, quote.author)

    def answer(self, quote, act, *args):
        """The customer's answer as the public page records it: the answer and the notice
        to the quote's owner, together."""
        from mail.quotes import notify_owner_of_answer
        with db.atomic():
            act(quote, *args)
            return notify_owner_of_answer(quote)

    # --- moving a story back in time -----------------------------------------------------

    def moment(self, day, hour, minute, timezone):
        local = datetime.datetime.combine(day, datetime.time(hour, minute))
        return min(to_utc(local, timezone), utcnow().replace(microsecond=0)
                   - datetime.timedelta(minutes=5))

    def days_ago(self, days, timezone, hour=None):
        hour = self.rng.randint(9, 16) if hour is None else hour
        return self.moment(self.today - datetime.timedelta(days=days), hour,
                           self.rng.choice((0, 10, 20, 30, 40, 50)), timezone)

    def valid_until(self, quote):
        """30 days from the day the story started the quote."""
        return self.today + datetime.timedelta(days=VALIDITY_DAYS - self.created[quote.id])

    def move(self, quote, submitted=None, approved=None, sent=None, answered=None,
             emails=()):
        """Put the quote's moments on the days its story tells (days ago). A validity that
        has passed by now (the expired quote's) could not be entered before sending; it is
        set here, and the approval then covers that date, as it did. Its `emails` are
        recorded as delivered then: the demo's customers have real-looking addresses, and a
        mail server set up on a demo database must not mail them."""
        timezone = quote.author.timezone
        hours = iter(sorted(self.rng.randint(8, 16) for _ in range(5)))
        fields = {"created_at": self.days_ago(self.created[quote.id], timezone, next(hours))}
        if quote.valid_until != self.valid_until(quote):
            quote.valid_until = fields["valid_until"] = self.valid_until(quote)
            if quote.approved_fingerprint:
                fields["approved_fingerprint"] = quote.fingerprint()
        last = fields["created_at"]
        for name, days in (("approved_at", approved), ("sent_at", sent),
                           ("answered_at", answered), ("updated_at", submitted)):
            if days is not None:
                last = max(last, self.days_ago(days, timezone, next(hours)))
                if name != "updated_at":
                    fields[name] = last
                    setattr(quote, name, last)
        fields["updated_at"] = last
        Quote.update(fields).where(Quote.id == quote.id).execute()
        for email in emails:
            when = quote.sent_at if email.kind == "quote" else quote.answered_at
            queued = when - datetime.timedelta(seconds=20)
            (Email.update(created_at=queued, updated_at=when, next_attempt_at=queued,
                          status="sent", sent_at=when, attempts=1)
             .where(Email.id == email.id)
             .execute())
            if email.timeline_entry_id:
                self.move_entry(email.timeline_entry, when)

    def last_entry(self, quote):
        """The newest entry the quote put on its account's timeline itself (kind "quote")."""
        return (TimelineEntry.select()
                .where((TimelineEntry.account == quote.account_id)
                       & (TimelineEntry.kind == "quote"))
                .order_by(TimelineEntry.id.desc())
                .first())

    def move_entry(self, entry, when):
        update_entry(entry, {"occurred_at": when})
        TimelineEntry.update(created_at=when, updated_at=when).where(
            TimelineEntry.id == entry.id).execute()
