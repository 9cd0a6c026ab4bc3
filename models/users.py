"""People who log in, their roles, API tokens and the login throttle."""
import datetime
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    IntegrityError)

from .db import BaseModel, db, utcnow
from .validation import Checker, Invalid

ROLES = {
    "account_manager": _l("Account manager"),
    "inside_sales": _l("Inside sales"),
    "manager": _l("Sales manager"),
    "finance": _l("Finance manager"),
    "admin": _l("Admin"),
}
LANGUAGES = {"en": "English", "nl": "Nederlands", "it": "Italiano", "el": "Ελληνικά"}
TIMEZONES = ("Europe/Amsterdam", "Europe/Brussels", "Europe/Rome", "Europe/Athens",
             "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "UTC")

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


class User(BaseModel):
    email = CharField(unique=True)
    name = CharField()
    role = CharField(index=True)
    password_hash = CharField()
    language = CharField(default="en")
    timezone = CharField(default="Europe/Amsterdam")
    active = BooleanField(default=True)
    away = BooleanField(default=False)  # the stand-in takes over the accounts while set
    # Bumped on a password change, so every other session of this user ends.
    session_version = IntegerField(default=1)
    last_login_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    def __str__(self):
        return self.name

    @property
    def role_label(self):
        return ROLES.get(self.role, self.role)

    @property
    def is_admin(self):
        return self.role == "admin"

    @property
    def leads_team(self):
        """Managers and admins see and change every account."""
        return self.role in ("manager", "admin")

    def set_password(self, password):
        self.password_hash = _hasher.hash(password)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password):
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = _hasher.hash(password)
            self.save(only=[User.password_hash])
        return True

    @classmethod
    def active_users(cls):
        return (cls.select()
                .where(cls.active == True)  # noqa: E712
                .order_by(cls.name))

    @classmethod
    def by_email(cls, email):
        return cls.get_or_none(cls.email == (email or "").strip().lower())


def clean_user(data, user=None, partial=False, acting=None):
    """Validate a user form; the password is required only for a new user.

    `acting` is the admin making the change: nobody takes away their own admin role or
    deactivates themselves, so there is always an admin left to undo a mistake.
    """
    check = Checker(data, partial=partial)
    check.email("email", required=True)
    check.text("name", required=True, max_length=120)
    check.choice("role", ROLES)
    check.choice("language", LANGUAGES)
    check.choice("timezone", TIMEZONES)
    if user is not None:
        check.boolean("active")
        check.boolean("away")
    password = data.get("password") or ""
    if user is None or password:
        if len(password) < MIN_PASSWORD_LENGTH:
            check.fail("password", _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
        else:
            check.values["password"] = password
    email = check.values.get("email")
    if email:
        taken = User.select().where(User.email == email)
        if user is not None:
            taken = taken.where(User.id != user.id)
        if taken.exists():
            check.fail("email", _l("Another user already has this email address."))
    if acting is not None and user is not None and acting.id == user.id:
        if user.is_admin and check.values.get("role", "admin") != "admin":
            check.fail("role", _l("You cannot take away your own admin role. "
                                  "Ask another admin to do it."))
        if check.values.get("active") is False:
            check.fail("active", _l("You cannot deactivate your own account. "
                                    "Ask another admin to do it."))
    return check.done()


def create_user(email, name, role, password, language="en", timezone="Europe/Amsterdam"):
    values = clean_user({"email": email, "name": name, "role": role, "password": password,
                         "language": language, "timezone": timezone})
    return add_user(values)


def add_user(values):
    """A new user from the clean values of `clean_user`."""
    user = User(email=values["email"], name=values["name"], role=values["role"],
                language=values["language"], timezone=values["timezone"])
    user.set_password(values["password"])
    _save_unique(user)
    return user


def update_user(user, values):
    """Apply an admin's changes; deactivating someone ends their sessions at once."""
    for field in ("email", "name", "role", "language", "timezone", "away"):
        if field in values:
            setattr(user, field, values[field])
    if "active" in values:
        if user.active and not values["active"]:
            user.session_version = (user.session_version or 0) + 1
        user.active = values["active"]
    if values.get("password"):
        user.set_password(values["password"])
    _save_unique(user)
    return user


def _save_unique(user):
    """Save, turning a clash on the email address (two admins at once) into a message."""
    try:
        with db.atomic():
            user.save()
    except IntegrityError:
        raise Invalid({"email": _l("Another user already has this email address.")})


def clean_profile(data):
    """A user's own settings: language, time zone and whether they are away."""
    check = Checker(data)
    check.choice("language", LANGUAGES)
    check.choice("timezone", TIMEZONES)
    check.boolean("away")
    return check.done()


def update_profile(user, values):
    for field in ("language", "timezone", "away"):
        if field in values:
            setattr(user, field, values[field])
    user.save(only=[User.language, User.timezone, User.away])
    return user


def change_password(user, data, ip=""):
    """Set a new password when the current one is right; every other session then ends.

    Wrong current passwords count as failed logins, so a borrowed session cannot be used
    to guess the password any faster than the login page allows.
    """
    errors = {}
    new = data.get("new_password") or ""
    wait = login_wait_seconds(user.email, ip)
    if wait:
        errors["current_password"] = _l("Too many failed attempts. Try again in %(n)s seconds.",
                                        n=wait)
    elif not data.get("current_password"):
        errors["current_password"] = _l("Enter your current password.")
    elif not user.check_password(data["current_password"]):
        LoginAttempt.create(email=user.email, ip=ip)
        errors["current_password"] = _l("That is not your current password.")
    if len(new) < MIN_PASSWORD_LENGTH:
        errors["new_password"] = _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    elif new != (data.get("new_password_again") or ""):
        errors["new_password_again"] = _l("The two new passwords are not the same.")
    if errors:
        raise Invalid(errors)
    user.set_password(new)
    user.save(only=[User.password_hash, User.session_version])
    return user


class ApiToken(BaseModel):
    """A personal bearer token; only its hash is stored."""
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = CharField(unique=True)
    name = CharField(default="")
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)

    @staticmethod
    def _digest(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name=""):
        """Create a token and return its plain text, shown once and never stored."""
        token = "acc_" + secrets.token_urlsafe(32)
        cls.create(user=user, token_hash=cls._digest(token), name=name)
        return token

    @classmethod
    def authenticate(cls, token):
        found = (cls.select(cls, User)
                 .join(User)
                 .where((cls.token_hash == cls._digest(token or "")) & (User.active == True))  # noqa: E712
                 .first())
        if found is None:
            return None
        now = utcnow()
        # Touch at most once a minute: a busy integration should not write per request.
        if found.last_used_at is None or now - found.last_used_at > datetime.timedelta(minutes=1):
            cls.update(last_used_at=now).where(cls.id == found.id).execute()
        return found.user


class LoginAttempt(BaseModel):
    """Failed logins, kept in the database so every web node sees the same count."""
    email = CharField(index=True)
    ip = CharField(default="")
    at = DateTimeField(default=utcnow, index=True)


THROTTLE_FREE_ATTEMPTS = 5
THROTTLE_FREE_ATTEMPTS_PER_IP = 20
THROTTLE_WINDOW = datetime.timedelta(minutes=15)


def login_wait_seconds(email, ip):
    """Seconds the next attempt for this address (or from this IP) must wait.

    The first few failures for an address cost nothing; after that each one doubles
    the wait, up to fifteen minutes, which makes guessing a password hopeless without
    locking out the real user for long. An IP address gets more free failures, since
    a whole office may sit behind one; it stops someone trying many addresses.
    """
    since = utcnow() - THROTTLE_WINDOW
    recent = LoginAttempt.select().where(LoginAttempt.at > since)
    return max(_wait(recent.where(LoginAttempt.email == email.lower()), THROTTLE_FREE_ATTEMPTS),
               _wait(recent.where(LoginAttempt.ip == ip), THROTTLE_FREE_ATTEMPTS_PER_IP))


def _wait(failures_query, free):
    failures = failures_query.count()
    if failures < free:
        return 0
    wait = min(2 ** (failures - free + 1), int(THROTTLE_WINDOW.total_seconds()))
    last = failures_query.order_by(LoginAttempt.at.desc()).first().at
    remaining = (last + datetime.timedelta(seconds=wait) - utcnow()).total_seconds()
    return int(remaining) + 1 if remaining > 0 else 0


def authenticate(email, password, ip):
    """The user for these credentials, or raise Invalid with a message for the form."""
    email = (email or "").strip().lower()
    wait = login_wait_seconds(email, ip)
    if wait:
        raise Invalid({"password": _l("Too many failed attempts. Try again in %(n)s seconds.", n=wait)})
    user = User.by_email(email)
    if user is None:
        # As slow as a wrong password, so the answer time does not tell who has an account.
        _verify_nothing(password)
    if user is None or not user.active or not user.check_password(password or ""):
        LoginAttempt.create(email=email, ip=ip)
        raise Invalid({"password": _l("That email address and password do not match.")})
    LoginAttempt.delete().where(LoginAttempt.email == email).execute()
    user.last_login_at = utcnow()
    user.save(only=[User.last_login_at])
    return user


_UNKNOWN_USER_HASH = []


def _verify_nothing(password):
    if not _UNKNOWN_USER_HASH:
        _UNKNOWN_USER_HASH.append(_hasher.hash(secrets.token_hex(16)))
    try:
        _hasher.verify(_UNKNOWN_USER_HASH[0], password or "")
    except (VerificationError, InvalidHashError):
        pass
