"""The one choice between a whole page and its swappable fragment, and reading what every
list and form shares: the page number and the version a form was loaded with."""
from flask import abort, make_response, redirect, render_template, request

from models.validation import HUGE, MAX_ID, parse_int


def wants_fragment():
    """An htmx request for part of a page: not a boosted link, not a history restore."""
    return bool(request.htmx) and not request.htmx.boosted and \
        not request.htmx.history_restore_request


def page_or_fragment(page, fragment, /, status=200, **context):
    """Render `page` for a person (bookmark, reload, back button) or `fragment` for htmx.

    The response varies on HX-Request, so no cache hands a fragment to a full page load.
    """
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def form_response(page, fragment, errors, /, status=422, **context):
    """A rejected form with the user's input and the messages, whole page or fragment.

    422 for invalid input; 409 when someone else saved the record first.
    """
    return page_or_fragment(page, fragment, status=status, errors=errors, **context)


def fragment(template, /, status=200, **context):
    """A URL that only serves an htmx interaction always answers with its fragment."""
    return make_response(render_template(template, **context), status)


def field_check(clean, *args, **kwargs):
    """The inline check of one field: run the save's own validation, answer that field's message."""
    from models.validation import Invalid
    name = request.form.get("_field", "")
    try:
        clean(request.form, *args, **kwargs)
        errors = {}
    except Invalid as invalid:
        errors = invalid.errors
    return fragment("_field_error.html", name=name, errors=errors)


def see_other(url):
    """After a successful save: 303 for a plain or boosted form; for an htmx form, HX-Redirect.

    An htmx request would follow a 303 inside the XHR and swap the next page's fragment
    into the form's place; HX-Redirect makes the browser load the page itself.
    """
    if wants_fragment():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def page_number():
    """The list page asked for (`?page=`, from 1). Anything but a number is page 1, as is a
    number below 1; a number no list can reach (beyond MAX_ID) is 404: no such page."""
    number = parse_int(request.args.get("page", ""), minimum=-HUGE, maximum=HUGE)
    if number is not None and number > MAX_ID:
        abort(404)
    return max(number or 1, 1)


def id_arg(name):
    """A list filter naming a record by its id (`?owner=3`): None when absent or not a number
    (no filter), else the id, or 0 for a number no record can have, which matches nothing."""
    number = parse_int(request.args.get(name, ""), minimum=-HUGE, maximum=HUGE)
    if number is None:
        return None
    return number if 0 < number <= MAX_ID else 0


def form_version(form):
    """The version an edit form was loaded with. Missing or garbled, it matches no record's
    version: the save is refused as stale (409) rather than overwriting unseen changes."""
    return parse_int(form.get("version", ""), minimum=1) or 0
