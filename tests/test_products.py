"""The catalogue: list, search, filters, page vs fragment, create/edit with validation,
deactivate instead of delete, CSV import with a preview and CSV export."""
import io
import re
from decimal import Decimal

import pytest
from playhouse.test_utils import count_queries

from conftest import form_fields, login, make_account, make_user, text_of
from test_api import api  # noqa: F401  (a fixture)
from models.products import (Product, ProductImport, ProductText, clean_product, export_csv,
                             read_import, save_product)
from models.validation import Invalid

HTMX = {"HX-Request": "true"}


def make_product(code="FLR-25", name="Flour 25 kg", **fields):
    data = {"code": code, "name": name, "list_price": "30.00", "cost_price": "18.00",
            "vat_rate": "9", "category": "Flour", "active": "1", **fields}
    return save_product(clean_product(data))


@pytest.fixture
def buyer(client, app):
    """The client, logged in as inside sales (who maintain the catalogue)."""
    user = make_user("desk@example.com", role="inside_sales", name="Dirk Desk")
    login(client, user)
    return client


def _codes(response):
    return re.findall(r'<td class="nowrap">([^<]+)</td>', response.get_data(as_text=True))


# --- the list ----------------------------------------------------------------------------

def test_list_is_a_page_and_its_results_a_fragment(auth):
    make_product()
    page = auth.get("/products/")
    fragment = auth.get("/products/", headers=HTMX)
    restore = auth.get("/products/", headers={**HTMX, "HX-History-Restore-Request": "true"})
    for response in (page, fragment, restore):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        assert "Flour 25 kg" in text_of(response)
    assert "<html" in page.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in restore.get_data(as_text=True)


def test_search_on_code_and_name_filters_and_sort(auth):
    make_product("FLR-25", "Flour 25 kg", category="Flour", list_price="30")
    make_product("SUG-10", "Suiker fijn", category="Sugar", list_price="12.5")
    make_product("YST-01", "Gist", category="Yeast", list_price="4", active="")
    assert _codes(auth.get("/products/?q=sug")) == ["SUG-10"]
    assert _codes(auth.get("/products/?q=flour")) == ["FLR-25"]
    assert _codes(auth.get("/products/?q=suiker")) == ["SUG-10"]
    assert _codes(auth.get("/products/?category=Sugar")) == ["SUG-10"]
    # Inactive products only when asked for.
    assert _codes(auth.get("/products/")) == ["FLR-25", "SUG-10"]
    assert _codes(auth.get("/products/?status=inactive")) == ["YST-01"]
    assert _codes(auth.get("/products/?status=all&sort=-list_price")) == [
        "FLR-25", "SUG-10", "YST-01"]
    assert _codes(auth.get("/products/?sort=list_price&status=all")) == [
        "YST-01", "SUG-10", "FLR-25"]
    assert "No products match" in text_of(auth.get("/products/?q=nothing-like-this"))


def test_list_pages_in_a_fixed_number_of_queries(auth):
    Product.insert_many([
        {"code": f"P{i:05d}", "name": f"Product {i}", "search_name": f"p{i:05d} product {i}",
         "list_price": Decimal("1.5"), "cost_price": Decimal("1"), "vat_rate": Decimal("21"),
         "category": f"Cat {i % 7}"} for i in range(120)]).execute()
    auth.get("/products/")  # warm up: the session and the user
    with count_queries() as counter:
        response = auth.get("/products/?page=2", headers=HTMX)
    assert response.status_code == 200
    assert _codes(response)[0] == "P00050"
    assert "Page 2 of 3" in text_of(response)
    # The user, the count, the page, the categories: not one query per row.
    assert counter.count <= 5


def test_list_escapes_what_users_typed(buyer):
    make_product("XSS-1", "<script>alert(1)</script>")
    html = buyer.get("/products/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- create and edit -----------------------------------------------------------------------

def test_create_with_texts_per_language(buyer):
    form = form_fields(buyer.get("/products/new").get_data(as_text=True), "product-form")
    form.update(code="OIL-5", name="Olive oil 5 l", list_price="42,50", cost_price="30.1234",
                vat_rate="9", category="Oil", stock="12.5", reserved="2", lead_time_days="3",
                name_nl="Olijfolie 5 l", description_nl="Extra vergine", name_el="Ελαιόλαδο 5 l")
    response = buyer.post("/products/new", data=form)
    assert response.status_code == 303
    product = Product.get(Product.code == "OIL-5")
    assert product.list_price == Decimal("42.50")
    assert product.cost_price == Decimal("30.1234")
    assert product.available == Decimal("10.5")
    assert product.active
    assert product.text_in("nl") == ("Olijfolie 5 l", "Extra vergine")
    assert product.text_in("el") == ("Ελαιόλαδο 5 l", "")
    assert product.text_in("it") == ("Olive oil 5 l", "")
    page = text_of(buyer.get(response.headers["Location"]))
    assert "Olijfolie 5 l" in page and "Ελαιόλαδο 5 l" in page


@pytest.mark.parametrize("field, value, message", [
    ("list_price", "-1", "price of 0 or more"),
    ("list_price", "1.23456", "at most 4 decimals"),
    ("cost_price", "abc", "price of 0 or more"),
    ("vat_rate", "101", "VAT rate from 0 to 100"),
    ("vat_rate", "21.005", "VAT rate from 0 to 100"),
    ("stock", "1.2345", "at most 3 decimals"),
    ("reserved", "-2", "quantity of 0 or more"),
    ("lead_time_days", "2.5", "whole number"),
    ("lead_time_days", "-1", "at least 0"),
    ("code", "", "required"),
    ("code", "A B", "cannot contain spaces"),
    ("name", "", "required"),
])
def test_bad_input_comes_back_with_the_message_at_the_field(buyer, field, value, message):
    form = {"code": "NEW-1", "name": "New thing", "list_price": "10", "cost_price": "5",
            "vat_rate": "21", "description": "Kept <b>as typed</b>", field: value}
    response = buyer.post("/products/new", data=form, headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<span class="field-error" id="{field}-error"[^>]*>([^<]*)</span>', html)
    assert error and message in error.group(1)
    assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in html
    assert Product.select().count() == 0


def test_duplicate_code_is_a_message_at_the_code_field(buyer):
    make_product("FLR-25")
    response = buyer.post("/products/new", data={
        "code": "FLR-25", "name": "Another", "list_price": "1", "cost_price": "1",
        "vat_rate": "21"}, headers=HTMX)
    assert response.status_code == 422
    assert "already a product with the code FLR-25" in text_of(response)
    # The inline check says the same while typing.
    check = buyer.post("/products/check", data={"code": "FLR-25", "_field": "code"})
    assert "already a product with the code FLR-25" in text_of(check)
    ok = buyer.post("/products/check", data={"code": "FLR-26", "_field": "code"})
    assert text_of(ok) == ""


def test_edit_keeps_its_own_code_and_refuses_a_stale_save(buyer):
    product = make_product()
    form = form_fields(buyer.get(f"/products/{product.id}/edit").get_data(as_text=True),
                       "product-form")
    assert form["code"] == "FLR-25" and form["list_price"] == "30"
    stale = dict(form)
    form["list_price"] = "31.5"
    assert buyer.post(f"/products/{product.id}/edit", data=form).status_code == 303
    assert Product.get_by_id(product.id).list_price == Decimal("31.5")
    stale["list_price"] = "29"
    response = buyer.post(f"/products/{product.id}/edit", data=stale)
    assert response.status_code == 409
    assert "Someone else changed this product" in text_of(response)
    assert Product.get_by_id(product.id).list_price == Decimal("31.5")


def test_account_managers_read_the_catalogue_but_do_not_change_it(auth):
    product = make_product()
    assert auth.get(f"/products/{product.id}").status_code == 200
    assert auth.get("/products/new").status_code == 403
    assert auth.post(f"/products/{product.id}/edit", data={"name": "x"}).status_code == 403
    assert auth.post(f"/products/{product.id}/delete").status_code == 403
    assert auth.get("/products/import").status_code == 403
    assert auth.get("/products/999/edit").status_code == 403
    assert auth.get("/products/999").status_code == 404


def test_unknown_product_is_404(buyer):
    assert buyer.get("/products/999").status_code == 404
    assert buyer.get("/products/999/edit").status_code == 404
    assert buyer.post("/products/999/delete").status_code == 404


def test_a_quoted_product_cannot_be_deleted_only_deactivated(buyer, user):
    from models.quotes import Quote, QuoteLine
    product = make_product()
    unused = make_product("SUG-10", "Sugar")
    account = make_account(user)
    quote = Quote.create(number="Q-2026-0001", account=account, author=user,
                         valid_until="2026-12-31")
    QuoteLine.create(quote=quote, product=product, quantity=1, unit_price=30, vat_rate=9)
    response = buyer.post(f"/products/{product.id}/delete")
    assert response.status_code == 303
    assert Product.get_or_none(Product.id == product.id) is not None
    page = text_of(buyer.get(f"/products/{product.id}"))
    assert "cannot be deleted" in page
    assert buyer.post(f"/products/{product.id}/active", data={"active": "0"}).status_code == 303
    assert not Product.get_by_id(product.id).active
    assert QuoteLine.get(QuoteLine.quote == quote).product_id == product.id
    assert buyer.post(f"/products/{unused.id}/delete").status_code == 303
    assert Product.get_or_none(Product.id == unused.id) is None


# --- CSV import ---------------------------------------------------------------------------

HEADER = "code;name;category;list_price;cost_price;vat_rate;stock;name_nl\n"


def _upload(client, text, name="products.csv", encoding="utf-8"):
    data = {"file": (io.BytesIO(text.encode(encoding)), name)}
    return client.post("/products/import", data=data, content_type="multipart/form-data")


def test_import_previews_each_row_and_writes_nothing_until_confirmed(buyer):
    make_product("FLR-25", "Flour 25 kg", list_price="30")
    text = ("\ufeff" + HEADER
            + "FLR-25;Flour 25 kg;Flour;31,50;18;9;100;Bloem 25 kg\n"
            + "SUG-10;Suiker;Sugar;12.5;8;9;40;\n"
            + "BAD-1;Bad price;Sugar;12.345678;8;9;0;\n"
            + "BAD-2;Unknown VAT;Sugar;12;8;hoog;0;\n"
            + "SUG-10;Twice;Sugar;1;1;9;0;\n"
            + ";No code;Sugar;1;1;9;0;\n")
    response = _upload(buyer, text)
    assert response.status_code == 303
    preview = buyer.get(response.headers["Location"])
    assert preview.status_code == 200
    page = text_of(preview)
    rows = _preview_rows(preview)
    assert rows == [("2", "Update", "FLR-25"), ("3", "New", "SUG-10"), ("4", "Error", "BAD-1"),
                    ("5", "Error", "BAD-2"), ("6", "Error", "SUG-10"), ("7", "Error", "")]
    assert "at most 4 decimals" in page
    assert "VAT rate from 0 to 100" in page
    assert "The code SUG-10 is also on line 3" in page
    assert "1 new, 1 updates, 4 with errors" in page
    # Nothing written yet.
    assert Product.get(Product.code == "FLR-25").list_price == Decimal("30")
    assert Product.get_or_none(Product.code == "SUG-10") is None

    done = buyer.post(response.headers["Location"])
    assert done.status_code == 303
    assert Product.get(Product.code == "FLR-25").list_price == Decimal("31.50")
    assert Product.get(Product.code == "FLR-25").text_in("nl")[0] == "Bloem 25 kg"
    sugar = Product.get(Product.code == "SUG-10")
    assert (sugar.name, sugar.stock, sugar.active) == ("Suiker", Decimal("40"), True)
    assert Product.select().count() == 2
    assert "1 new, 1 updated, 4 rows skipped" in text_of(buyer.get(done.headers["Location"]))
    # The upload is forgotten once used.
    assert ProductImport.select().count() == 0
    again = buyer.post(response.headers["Location"])
    assert again.status_code == 303 and again.headers["Location"].endswith("/products/import")


def _preview_rows(response):
    html = response.get_data(as_text=True)
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    rows = []
    for row in re.findall(r"<tr.*?</tr>", body, re.S):
        cells = [" ".join(re.sub(r"<[^>]+>", " ", c).split())
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows.append(tuple(cells[:3]))
    return rows


def test_import_reads_commas_and_refuses_a_file_without_a_required_column(buyer):
    comma = 'code,name,list_price,cost_price,vat_rate\nA-1,"Apples, red","2,50",1,9\n'
    preview = read_import(comma.encode())
    assert preview.problem is None
    assert [(r.status, r.values["name"], r.values["list_price"]) for r in preview.rows] == [
        ("new", "Apples, red", Decimal("2.50"))]

    response = _upload(buyer, "code;name;list_price;cost_price\nA-1;Apples;1;1\n")
    assert response.status_code == 422
    assert "no column vat_rate" in text_of(response)
    assert ProductImport.select().count() == 0

    latin = _upload(buyer, HEADER + "A-1;Café;Cat;1;1;9;0;\n", encoding="latin-1")
    assert latin.status_code == 422 and "not UTF-8" in text_of(latin)
    empty = buyer.post("/products/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "Choose a CSV file" in text_of(empty)


def test_someone_elses_import_is_not_yours(buyer, client):
    response = _upload(buyer, HEADER + "A-1;Apples;Fruit;1;1;9;0;\n")
    location = response.headers["Location"]
    login(client, make_user("other@example.com", role="inside_sales"))
    assert client.post(location).status_code == 303
    assert Product.select().count() == 0


def test_a_large_import_previews_and_imports_whole(buyer):
    # Its speed is a benchmark's business (bench/), not a timed test's.
    lines = [HEADER] + [f"P{i:05d};Product {i};Cat {i % 9};{i % 97},50;1,25;21;{i % 13};\n"
                        for i in range(5000)]
    response = _upload(buyer, "".join(lines))
    preview = buyer.get(response.headers["Location"])
    assert preview.status_code == 200
    assert "5000 new, 0 updates, 0 with errors" in text_of(preview)
    done = buyer.post(response.headers["Location"])
    assert done.status_code == 303
    assert Product.select().count() == 5000


# --- CSV export ---------------------------------------------------------------------------

def test_export_round_trips_through_the_import(buyer):
    make_product("FLR-25", "Flour; \"fine\"", list_price="30.1234", description="Two\nlines",
                 name_nl="Bloem", description_it="Farina", stock="1.5", lead_time_days="4")
    make_product("YST-01", "Gist", category="Yeast", active="")
    make_product("SUG-10", "Sugar", category="Sugar")
    response = buyer.get("/products/export.csv?status=all")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    before = {p.code: _snapshot(p) for p in Product.select()}

    # Filtered export: only what the list shows.
    filtered = buyer.get("/products/export.csv?category=Yeast&status=all").get_data(as_text=True)
    assert "YST-01" in filtered and "FLR-25" not in filtered

    # Importing the export changes nothing, and every row is recognised as an update.
    preview = read_import(raw)
    assert preview.problem is None
    assert [r.status for r in preview.rows] == ["update"] * 3
    assert buyer.post(_upload(buyer, raw.decode("utf-8")).headers["Location"]).status_code == 303
    assert {p.code: _snapshot(p) for p in Product.select()} == before

    # Into an empty catalogue, the same file recreates the same products.
    ProductText.delete().execute()
    Product.delete().execute()
    assert buyer.post(_upload(buyer, raw.decode("utf-8")).headers["Location"]).status_code == 303
    assert {p.code: _snapshot(p) for p in Product.select()} == before


def _snapshot(product):
    texts = sorted((t.language, t.name, t.description) for t in product.texts)
    return (product.name, product.description, product.category, product.unit,
            product.list_price, product.cost_price, product.vat_rate, product.stock,
            product.reserved, product.lead_time_days, product.active, tuple(texts))


def test_export_csv_function_matches_the_import_columns(app):
    from models.products import CSV_COLUMNS
    header = export_csv(Product.select()).lstrip("\ufeff").splitlines()[0]
    assert header.split(";") == list(CSV_COLUMNS)


def test_clean_product_collects_every_message(app):
    with pytest.raises(Invalid) as raised:
        clean_product({"code": "", "name": "", "list_price": "x", "cost_price": "-1",
                       "vat_rate": "200"})
    assert set(raised.value.errors) == {"code", "name", "list_price", "cost_price", "vat_rate"}


# --- the API ------------------------------------------------------------------------------

API_CONTRACT = {"id", "code", "name", "category", "unit", "list_price", "cost_price", "vat_rate",
                "stock", "reserved", "lead_time_days"}


@pytest.fixture
def desk_api(client, app):
    from test_api import Api
    from models.users import ApiToken
    return Api(client, ApiToken.issue(make_user("desk@example.com", role="inside_sales")))


def test_api_lists_products_with_the_contract_fields(api, user):
    from test_api import all_pages
    make_product("FLR-25", "Flour", list_price="30.5", stock="1.25", name_nl="Bloem")
    make_product("YST-01", "Gist", category="Yeast", active="")
    for i in range(3):
        make_product(f"SUG-{i}", f"Sugar {i}", category="Sugar")
    items, pages = all_pages(api, "/api/v1/products?limit=2")
    assert pages == 3 and len(items) == 5
    flour = items[0]
    assert API_CONTRACT <= set(flour)
    assert (flour["code"], flour["list_price"], flour["cost_price"], flour["vat_rate"],
            flour["stock"], flour["reserved"], flour["lead_time_days"]) == (
        "FLR-25", "30.5", "18", "9", "1.25", "0", 0)
    assert flour["texts"] == {"nl": {"name": "Bloem", "description": ""}}
    assert flour["active"] is True
    codes = lambda q: [i["code"] for i in api.get(f"/api/v1/products?{q}").json["items"]]  # noqa
    assert codes("active=false") == ["YST-01"]
    assert codes("category=Sugar&q=sugar 1") == ["SUG-1"]
    assert api.get("/api/v1/products?active=maybe").status_code == 400
    assert api.get("/api/v1/products/999").status_code == 404


def test_api_create_and_update(desk_api):
    response = desk_api.post("/api/v1/products", {
        "code": "OIL-5", "name": "Olive oil", "list_price": "42.50", "cost_price": "30",
        "vat_rate": "9", "lead_time_days": 3,
        "texts": {"el": {"name": "Ελαιόλαδο"}, "it": {"name": "Olio", "description": "EVO"}}})
    assert response.status_code == 201, response.json
    item = response.json
    assert response.headers["Location"].endswith(f"/api/v1/products/{item['id']}")
    assert (item["list_price"], item["active"], item["texts"]["el"]["name"]) == (
        "42.5", True, "Ελαιόλαδο")
    patched = desk_api.patch(f"/api/v1/products/{item['id']}",
                             {"list_price": "44", "version": item["version"],
                              "texts": {"el": {"name": ""}}})
    assert patched.status_code == 200, patched.json
    assert patched.json["list_price"] == "44" and patched.json["name"] == "Olive oil"
    assert "el" not in patched.json["texts"] and patched.json["texts"]["it"]["name"] == "Olio"
    stale = desk_api.patch(f"/api/v1/products/{item['id']}",
                           {"list_price": "1", "version": item["version"]})
    assert stale.status_code == 409
    bad = desk_api.post("/api/v1/products", {
        "code": "OIL-5", "name": "", "list_price": 12.5, "cost_price": "-1", "vat_rate": "9",
        "texts": {"fr": {"name": "Huile"}}})
    assert bad.status_code == 422
    assert set(bad.json["fields"]) == {"code", "name", "list_price", "cost_price", "texts"}
    assert "already a product" in bad.json["fields"]["code"]
    assert desk_api.post("/api/v1/products", {"colour": "red"}).status_code == 400


def test_api_account_managers_cannot_change_the_catalogue(api):
    product = make_product()
    assert api.post("/api/v1/products", {"code": "X", "name": "X", "list_price": "1",
                                          "cost_price": "1", "vat_rate": "0"}).status_code == 403
    assert api.patch(f"/api/v1/products/{product.id}", {"name": "Y"}).status_code == 403
    assert api.get(f"/api/v1/products/{product.id}").json["name"] == "Flour 25 kg"


def test_api_price_agreements(api, user):
    from models.pricing import agreed_discounts
    account = make_account(user)
    owner = api
    assert owner.post(f"/api/v1/accounts/{account.id}/prices",
                      {"category": "Flour", "discount_pct": "30"}).status_code == 403
    api = api.as_user(make_user("lead@example.com", role="manager"))
    product = make_product()
    assert api.get(f"/api/v1/accounts/{account.id}/prices").json == {"items": [], "next": None}
    category = api.post(f"/api/v1/accounts/{account.id}/prices",
                        {"category": "Flour", "discount_pct": "10"})
    assert category.status_code == 201, category.json
    special = api.post(f"/api/v1/accounts/{account.id}/prices",
                       {"product_id": product.id, "discount_pct": "12.5"})
    assert special.json == {"id": special.json["id"], "category": None,
                            "product_id": product.id, "product_code": "FLR-25",
                            "discount_pct": "12.5"}
    assert agreed_discounts(account, [product])[product.id] == Decimal("12.5")
    bad = api.post(f"/api/v1/accounts/{account.id}/prices", {"category": "Flour",
                                                             "discount_pct": "101"})
    assert bad.status_code == 422 and "discount_pct" in bad.json["fields"]
    listed = api.get(f"/api/v1/accounts/{account.id}/prices").json["items"]
    assert [(i["category"], i["product_code"]) for i in listed] == [("Flour", None),
                                                                    (None, "FLR-25")]
    deleted = api.request("DELETE", f"/api/v1/accounts/{account.id}/prices/{special.json['id']}")
    assert deleted.status_code == 204
    assert agreed_discounts(account, [product])[product.id] == Decimal("10")
    outsider = api.as_user(make_user("other@example.com"))
    assert outsider.post(f"/api/v1/accounts/{account.id}/prices",
                         {"category": "Flour", "discount_pct": "50"}).status_code == 403
    assert api.get("/api/v1/accounts/999/prices").status_code == 404
