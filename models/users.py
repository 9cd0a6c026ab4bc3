"""People who log in, their roles, API tokens and the login throttle."""
import datetime
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from .db import BaseModel, utcnow
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


def clean_user(data, user=None, partial=False):
    """Validate a user form; the password is required only for a new user."""
    check = Checker(data, partial=partial)
    check.email("email", required=True)
    check.text("name", required=True, max_length=120)
    check.choice("role", ROLES)
    check.choice("language", LANGUAGES)
    check.choice("timezone", TIMEZONES)
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
    return check.done()


def create_user(email, name, role, password, language="en"):
    values = clean_user({"email": email, "name": name, "role": role, "password": password,
                         "language": language, "timezone": "Europe/Amsterdam"})
    user = User(email=values["email"], name=values["name"], role=values["role"],
                language=values["language"], timezone=values["timezone"])
    user.set_password(values["password"])
    user.save()
    return user


def update_user(user, values):
    for field in ("email", "name", "role", "language", "timezone"):
        if field in values:
            setattr(user, field, values[field])
    if values.get("password"):
        user.set_password(values["password"])
    user.save()
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
THROTTLE_WINDOW = datetime.timedelta(minutes=15)


def login_wait_seconds(email, ip):
    """Seconds the next attempt for this address (or from this IP) must wait.

    The first few failures cost nothing; after that each one doubles the wait,
    up to fifteen minutes, which makes guessing a password hopeless without
    locking out the real user for long.
    """
    since = utcnow() - THROTTLE_WINDOW
    recent = (LoginAttempt.select()
              .where((LoginAttempt.at > since)
                     & ((LoginAttempt.email == email.lower()) | (LoginAttempt.ip == ip)))
              .order_by(LoginAttempt.at.desc()))
    failures = recent.count()
    if failures < THROTTLE_FREE_ATTEMPTS:
        return 0
    wait = min(2 ** (failures - THROTTLE_FREE_ATTEMPTS + 1), int(THROTTLE_WINDOW.total_seconds()))
    last = recent.first().at
    remaining = (last + datetime.timedelta(seconds=wait) - utcnow()).total_seconds()
    return max(0, int(remaining) + 1) if remaining > 0 else 0


def authenticate(email, password, ip):
    """The user for these credentials, or raise Invalid with a message for the form."""
    email = (email or "").strip().lower()
    wait = login_wait_seconds(email, ip)
    if wait:
        raise Invalid({"password": _l("Too many failed attempts. Try again in %(n)s seconds.", n=wait)})
    user = User.by_email(email)
    if user is None or not user.active or not user.check_password(password or ""):
        LoginAttempt.create(email=email, ip=ip)
        raise Invalid({"password": _l("That email address and password do not match.")})
    LoginAttempt.delete().where(LoginAttempt.email == email).execute()
    return user
