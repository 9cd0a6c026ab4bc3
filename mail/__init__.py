"""Email: one path out and, later, the way back in.

Outgoing mail has one path: a use-case function (`mail/quotes.py` …) renders a pair of
templates from `mail/templates/` (`name.txt` and `name.html`) in the recipient's language,
then `mail.outbox.queue_email` stores the message and the worker sends it
(`mail.outbox.send_due`).
"""
from pathlib import Path

from flask import current_app
from jinja2 import ChoiceLoader, FileSystemLoader

TEMPLATES = Path(__file__).parent / "templates"


def _environment():
    """The app's Jinja environment (filters, globals, gettext) reading mail/templates first."""
    env = current_app.extensions.get("mail_templates")
    if env is None:
        env = current_app.jinja_env.overlay(
            loader=ChoiceLoader([FileSystemLoader(TEMPLATES), current_app.jinja_env.loader]))
        current_app.extensions["mail_templates"] = env
    return env


def render_email(name, **context):
    """The plain-text and HTML bodies of the use case `name`, as (text, html).

    Call inside `force_locale(...)` to write in the recipient's language. The HTML template
    is autoescaped; the text one is not (it is plain text, never shown as HTML).
    """
    env = _environment()
    text = env.get_template(f"{name}.txt").render(**context)
    html = env.get_template(f"{name}.html").render(**context)
    return text.strip() + "\n", html
