"""Administration: users, their roles, and who may still log in."""
from flask import Blueprint, flash, g, request, url_for
from flask_babel import gettext as _
from peewee import fn

from models.accounts import Account
from models.users import (LANGUAGES, MIN_PASSWORD_LENGTH, ROLES, TIMEZONES, User, add_user,
                          clean_user, update_user)
from models.validation import Invalid

from .access import find, get_or_404, roles_required
from .rendering import field_check, form_response, page_or_fragment, see_other

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    """Everyone who can log in (and who no longer can), with their role and accounts."""
    people = list(User.select()
                  .order_by(User.active.desc(), User.name, User.id))
    owned = dict(Account.select(Account.owner, fn.COUNT(Account.id))
                 .group_by(Account.owner)
                 .tuples())
    return page_or_fragment("admin/users.html", "admin/_users.html",
                            people=people, owned=owned)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def create_user():
    form = {"role": "account_manager", "language": g.user.language, "timezone": g.user.timezone}
    if request.method == "POST":
        form = request.form
        try:
            user = add_user(clean_user(form))
        except Invalid as invalid:
            return form_response("admin/new_user.html", "admin/_user_form.html", invalid.errors,
                                 **_form_context(form, None))
        flash(_("%(name)s can now sign in as %(email)s.", name=user.name, email=user.email),
              "success")
        return see_other(url_for("admin.users"))
    return page_or_fragment("admin/new_user.html", "admin/_user_form.html", errors={},
                            **_form_context(form, None))


@bp.post("/users/check")
@roles_required("admin")
def check():
    """Inline validation: the message the save would give for one field."""
    return field_check(clean_user, find(User, request.form.get("user_id")), acting=g.user)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id):
    user = get_or_404(User, user_id)
    if request.method == "POST":
        form = request.form
        try:
            update_user(user, clean_user(form, user, acting=g.user))
        except Invalid as invalid:
            user = get_or_404(User, user_id)  # the stored values, not the rejected ones
            return form_response("admin/edit_user.html", "admin/_user_form.html", invalid.errors,
                                 **_form_context(form, user))
        flash(_("Changes to %(name)s saved.", name=user.name), "success")
        return see_other(url_for("admin.users"))
    form = {"email": user.email, "name": user.name, "role": user.role,
            "language": user.language, "timezone": user.timezone,
            "active": "1" if user.active else "", "away": "1" if user.away else ""}
    return page_or_fragment("admin/edit_user.html", "admin/_user_form.html", errors={},
                            **_form_context(form, user))


def _form_context(form, user):
    return dict(form=form, user=user, roles=ROLES, languages=LANGUAGES,
                timezones=[(tz, tz.replace("_", " ")) for tz in TIMEZONES],
                min_password_length=MIN_PASSWORD_LENGTH)
