"""The commands of DESIGN.md: users, tokens, the schema, the demo and backups."""
import shutil
import sqlite3

import pytest

from conftest import make_user, service_missing
from models.accounts import Account
from models.db import is_postgres
from models.users import ApiToken, User


def test_users_create(runner):
    result = runner.invoke(args=["users", "create", "Giulia@Example.com", "--role",
                                 "account_manager", "--password", "a good long password",
                                 "--name", "Giulia Bianchi", "--language", "it"])
    assert result.exit_code == 0, result.output
    assert "Created giulia@example.com (account_manager)." in result.output
    user = User.by_email("giulia@example.com")
    assert (user.name, user.role, user.language) == ("Giulia Bianchi", "account_manager", "it")
    assert user.check_password("a good long password")


def test_users_create_names_the_user_after_the_address_by_default(runner):
    result = runner.invoke(args=["users", "create", "marco@example.com", "--role", "manager",
                                 "--password", "a good long password"])
    assert result.exit_code == 0
    assert User.by_email("marco@example.com").name == "marco"


@pytest.mark.parametrize("args, message", [
    (["--role", "emperor", "--password", "a good long password"],
     "role: Choose one of the options."),
    (["--role", "admin", "--password", "short"], "password: Use at least 10 characters."),
])
def test_users_create_refuses_bad_input(runner, args, message):
    result = runner.invoke(args=["users", "create", "new@example.com", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert User.by_email("new@example.com") is None


def test_users_create_refuses_a_duplicate(runner, user):
    result = runner.invoke(args=["users", "create", "AM@example.com", "--role", "admin",
                                 "--password", "a good long password"])
    assert result.exit_code != 0
    assert "email: Another user already has this email address." in result.output
    assert User.get_by_id(user.id).role == "account_manager"


def test_users_create_needs_role_and_password(runner):
    result = runner.invoke(args=["users", "create", "new@example.com"])
    assert result.exit_code != 0
    assert "--role" in result.output
    assert User.by_email("new@example.com") is None


def test_tokens_create_prints_a_working_token_on_the_last_line(runner, user):
    result = runner.invoke(args=["tokens", "create", "am@example.com", "--name", "ERP sync"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("acc_") and " " not in token
    assert ApiToken.authenticate(token) == user
    assert ApiToken.get(ApiToken.user == user).name == "ERP sync"
    assert token not in ApiToken.get(ApiToken.user == user).token_hash  # only its hash is kept
    assert ApiToken.authenticate(token + "x") is None


def test_a_token_of_a_deactivated_user_stops_working(runner, user):
    token = runner.invoke(args=["tokens", "create", user.email]).output.strip().splitlines()[-1]
    User.update(active=False).where(User.id == user.id).execute()
    assert ApiToken.authenticate(token) is None


def test_tokens_create_for_an_unknown_user(runner):
    result = runner.invoke(args=["tokens", "create", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No user with the email address nobody@example.com." in result.output
    assert ApiToken.select().count() == 0


def test_db_upgrade_is_idempotent(runner, user):
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "Applied 0 migration(s): none pending." in result.output
    assert User.get_by_id(user.id).email == "am@example.com"  # nothing dropped


def test_the_migrations_create_every_model_column(app):
    """The models and migrations/ describe the same schema: a field without a migration
    would fail only at run time, on the first query that reads it."""
    from models import ALL_MODELS, db
    for model in ALL_MODELS:
        columns = {column.name for column in db.get_columns(model._meta.table_name)}
        fields = {field.column_name for field in model._meta.sorted_fields}
        assert columns == fields, model.__name__


def test_demo_load_and_if_empty(runner):
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Demo data loaded: 7 users, ")
    count = Account.select().count()
    assert count >= 35
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0
    assert "Demo data not loaded: the database already has accounts." in result.output
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0
    assert "Demo data is already loaded; nothing changed." in result.output
    assert Account.select().count() == count


def test_demo_load_if_empty_leaves_a_real_database_alone(runner, user):
    from conftest import make_account
    make_account(user, "Our only customer")
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0
    assert [a.name for a in Account.select()] == ["Our only customer"]
    assert User.by_email("anna@example.com") is None


def test_backup_writes_a_readable_copy(runner, tmp_path):
    make_user("backed-up@example.com", name="Backed Up")
    target = tmp_path / "nested" / "copy.db"
    if is_postgres() and shutil.which("pg_dump") is None:
        service_missing("pg_dump is not installed: the PostgreSQL backup needs the client tools")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Backup written to {target}" in result.output
    assert target.stat().st_size > 0
    if is_postgres():
        assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        return
    with sqlite3.connect(target) as copy:
        rows = copy.execute('SELECT name FROM "user" WHERE email = ?',
                            ("backed-up@example.com",)).fetchall()
        assert rows == [("Backed Up",)]
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()
