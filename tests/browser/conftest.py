"""Browser tests: a real Chromium (Debian's, never a downloaded one) driven by Playwright
against pytest-django's live server.

Every page a test opens is checked by ``tests/browser/a11y.py``: the
GOV.UK stylesheet really applied, axe-core finds no violations, and the browser reported no
Content Security Policy violation or script error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response

from tests.browser.a11y import DESKTOP
from tests.browser.auth import give_personas_real_authenticators, sign_in
from tests.conftest import World

# Playwright's sync API runs an event loop in the main thread; Django refuses database
# access from a thread with a running loop unless told it is safe (it is: the loop only
# drives the browser). Django reads this at each database call, so setting it here, before
# any test runs, is early enough.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def system_chromium() -> Path:
    """The browser suite needs Debian's Chromium. Missing is a failure, not a skip: a
    skipped accessibility suite looks the same as a passing one in a hurried CI log."""
    if not CHROMIUM.exists() or not os.access(CHROMIUM, os.X_OK):
        found = shutil.which("chromium")
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM} "
            f"({'found one at ' + found + ' instead' if found else 'none found on PATH'}). "
            "Install it with `apt-get install -y chromium`. Do not run `playwright install`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], system_chromium: Path
) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(system_chromium),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-GB"}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # allauth remembers used TOTP codes in the cache; a code from an earlier test must not
    # make a later sign-in look like a replay.
    cache.clear()


class BrowserProblems:
    """What the browser reported since the last ``take``: Content Security Policy
    violations (console errors), uncaught script errors, and page resources (stylesheets,
    scripts, fonts, images, htmx requests) that failed to load."""

    def __init__(self, page: Page) -> None:
        self.csp: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._pageerror)
        page.on("response", self._response)
        page.on("requestfailed", self._requestfailed)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.csp.append(msg.text)

    def _pageerror(self, error: Error) -> None:
        self.errors.append(f"script error: {error.name}: {error.message}")

    def _response(self, response: Response) -> None:
        # The page itself may be a deliberate 403 or 404; what it pulls in may not.
        if response.request.resource_type != "document" and response.status >= 400:
            self.errors.append(f"{response.status} for {response.url}")

    def _requestfailed(self, request: Request) -> None:
        failure = request.failure or ""
        if request.resource_type != "document" and "ERR_ABORTED" not in failure:
            self.errors.append(f"could not load {request.url}: {failure}")

    def take(self) -> tuple[list[str], list[str]]:
        csp, errors = self.csp, self.errors
        self.csp, self.errors = [], []
        return csp, errors


@pytest.fixture
def page(page: Page) -> Page:
    """pytest-playwright's page, recording what the browser reports (BrowserProblems)."""
    page.problems = BrowserProblems(page)  # type: ignore[attr-defined]
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def browser_world(world: World, live_server: Any) -> World:
    """The shared ``world`` of organisations, people and personas, in a database the live
    server's thread can see (asking for ``live_server`` makes the test transactional),
    with authenticators a real sign-in can use."""
    give_personas_real_authenticators(world)
    return world


@pytest.fixture
def signed_in(page: Page, live_server: Any, browser_world: World) -> Callable[[str], Page]:
    """``signed_in("navigator")``: the page, signed in as that persona of the world."""

    def make(persona: str) -> Page:
        sign_in(page, live_server, browser_world.user(persona).username)
        return page

    return make
