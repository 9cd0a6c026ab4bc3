from conftest import login, make_account, make_contact, make_entry, text_of


def test_pages_render(auth, user):
    account = make_account(user)
    make_contact(account, dmu_role="decision_maker")
    make_entry(account, user)
    for url in ["/", "/accounts/", f"/accounts/{account.id}", f"/accounts/{account.id}/edit",
                "/accounts/new", "/tasks/", f"/tasks/new?account={account.id}"]:
        response = auth.get(url)
        assert response.status_code == 200, (url, text_of(response)[:500])
