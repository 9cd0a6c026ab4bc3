"""Browser tests: the app served on a loopback port, driven by Debian's Chromium.

`live_server` serves the test's `app` (same database as every other test) from a thread;
`page` is a fresh browser tab whose console errors, page errors (CSP violations are
console errors) and failed requests fail the test, unless the test said it provokes them
with `page_watch.expect_status(…)`. `sign_in` logs in through the real login form.
"""
import os
import re
import threading

import pytest
from werkzeug.serving import make_server

from conftest import PASSWORD, service_missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
TIMEOUT_MS = 15_000  # generous: CI machines are shared and slow
# htmx logs a request it aborted (hx-sync "abort") as two console errors.
HTMX_ABORT_NOTES = ("htmx:sendAbort, ", "htmx:afterRequest, ")


@pytest.fixture(scope="session")
def browser():
    """One Chromium per test session (per xdist worker); each test gets its own context."""
    if not os.access(CHROMIUM, os.X_OK):
        service_missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("playwright is not installed (pip install -r requirements.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test's app on a free loopback port, in a background thread, for one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class PageWatch:
    """Everything that went wrong in the browser during one test."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.problems = []
        self.expected = []  # (status, path) pairs the test provokes on purpose

    def expect_status(self, status, path):
        """Allow responses with `status` for URLs under `path` (and the console's note of them)."""
        self.expected.append((status, path))

    def _expected(self, status, url):
        path = url[len(self.base_url):] if url.startswith(self.base_url) else url
        return any(status == s and path.split("?")[0].startswith(p) for s, p in self.expected)

    def on_console(self, message):
        if message.type != "error":
            return
        text = message.text
        if text.startswith(HTMX_ABORT_NOTES):
            return  # htmx's note of a request it cancelled itself (hx-sync), see on_request_failed
        # Chromium logs every 4xx/5xx response as "Failed to load resource: … status of 422";
        # those are judged by their response below, by URL, not twice here.
        location = (message.location or {}).get("url", "")
        if text.startswith("Failed to load resource: the server responded with a status of"):
            status = int(text.split("status of ")[1].split()[0])
            if self._expected(status, location):
                return
        self.problems.append(f"console error: {text} ({location})")

    def on_page_error(self, error):
        self.problems.append(f"page error: {error}")

    def on_response(self, response):
        if response.status >= 400 and not self._expected(response.status, response.url):
            self.problems.append(
                f"HTTP {response.status} for {response.request.method} {response.url}")

    def on_request_failed(self, request):
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled by the page (a newer request replaced it), not a failure
        self.problems.append(f"request failed: {request.method} {request.url} "
                             f"({request.failure})")

    def check(self):
        problems, self.problems = self.problems, []
        assert not problems, "the browser reported problems:\n  " + "\n  ".join(problems)


@pytest.fixture
def page_watch(request, live_server):
    watch = PageWatch(live_server)
    request.node.page_watch = watch
    return watch


@pytest.fixture
def context(browser, live_server, page_watch):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900},
                                  locale="en-GB", timezone_id="Europe/Amsterdam")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", page_watch.on_console)
    context.on("weberror", lambda error: page_watch.on_page_error(error.error))
    context.on("response", page_watch.on_response)
    context.on("requestfailed", page_watch.on_request_failed)
    yield context
    context.close()


@pytest.fixture
def page(context):
    from playwright.sync_api import expect
    expect.set_options(timeout=TIMEOUT_MS)
    return context.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that passed still fails when the browser saw an error while it ran."""
    watch = getattr(item, "page_watch", None)
    try:
        result = yield
    except BaseException as failure:
        if watch is not None and watch.problems:  # often the cause: show it with the failure
            failure.add_note("The browser also reported:\n  " + "\n  ".join(watch.problems))
        raise
    if watch is not None:
        watch.check()
    return result


def sign_in(page, user, password=PASSWORD):
    """Log in through the login form, as a person does, and wait for My day."""
    from playwright.sync_api import expect
    page.goto("/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))  # My day, in any language
    page.wait_for_load_state()  # deferred scripts (htmx, app.js) have run: shortcuts work
    expect(page.get_by_role("banner")).to_be_visible()
