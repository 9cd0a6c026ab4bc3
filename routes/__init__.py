"""Blueprints, extensions and the request cycle shared by every page."""
from flask import g, jsonify, render_template, request
from flask_babel import Babel
from flask_mail import Mail
from flask_wtf.csrf import CSRFError, CSRFProtect
from htmx_flask import Htmx

from models.db import db

babel = Babel()
csrf = CSRFProtect()
htmx = Htmx()
mail = Mail()

# No inline script or style anywhere: htmx's own indicator styles are in app.css
# and eval is off (see base.html's htmx-config), so 'self' is all we allow.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)


def init_app(app):
    from . import access, filters

    babel.init_app(app, locale_selector=access.current_locale,
                   timezone_selector=access.current_timezone)
    csrf.init_app(app)
    htmx.init_app(app)
    mail.init_app(app)
    filters.init_app(app)

    @app.before_request
    def open_connection():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def close_connection(exc):
        if not db.is_closed():
            db.close()

    app.before_request(access.load_user)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if getattr(g, "user", None) is not None:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    _register_errors(app)

    from . import accounts, admin, api, auth, contacts, main, quotes, tasks, timeline
    from . import pricing, products, settings
    for module in (auth, main, accounts, contacts, timeline, tasks, admin, products, pricing,
                   settings, quotes):
        app.register_blueprint(module.bp)
    from . import documents, outbox, public  # quote documents, the customer's link, the outbox
    for module in (documents, public, outbox):
        app.register_blueprint(module.bp)
    from . import attachments, compose, inbox  # the triage inbox, email display, writing
    for module in (inbox, attachments, compose):
        app.register_blueprint(module.bp)
    from . import mailboxes  # the mailboxes the inbound poller reads
    app.register_blueprint(mailboxes.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # bearer tokens, not cookies: no cross-site request can carry one


def _wants_json():
    return request.path.startswith("/api/")


def _register_errors(app):
    from flask_babel import gettext as _

    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You are not allowed to do this."),
        404: lambda: _("There is nothing at this address."),
        405: lambda: _("This address does not accept that kind of request."),
        413: lambda: _("That is too large to upload."),
        429: lambda: _("Too many requests. Wait a moment and try again."),
        500: lambda: _("Something went wrong on our side. Your input was not saved; try again."),
    }

    def render_error(status, message):
        if _wants_json():
            return jsonify(error=message), status
        template = "errors/_message.html" if request.htmx else "errors/page.html"
        return render_template(template, status=status, message=message), status

    for status, message in messages.items():
        app.register_error_handler(
            status, lambda e, status=status, message=message: render_error(
                status, getattr(e, "description_override", None) or message()))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_error(400, _("This form has expired or was sent from elsewhere. "
                                   "Reload the page and try again; nothing was saved."))
