"""The page checks themselves: a check that cannot fail proves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.a11y import page_problems
from tests.conftest import World

pytestmark = pytest.mark.browser


def test_checks_report_axe_violations_csp_violations_and_missing_styles(
    page: Page, live_server: Any, browser_world: World
) -> None:
    page.goto(f"{live_server.url}/accessibility/")
    assert page_problems(page) == []

    # An image with no text alternative, an image that is not there, and an inline script
    # (which the CSP must block).
    page.evaluate(
        """() => {
          const img = document.createElement("img");
          img.src = "/assets/images/favicon.svg";
          document.querySelector("main").append(img);
          const missing = document.createElement("img");
          missing.src = "/assets/images/no-such-image.png";
          missing.alt = "";
          document.querySelector("main").append(missing);
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.body.append(script);
        }"""
    )
    page.wait_for_timeout(100)  # let the console message arrive
    problems = "\n".join(page_problems(page))
    assert "image-alt" in problems
    assert "at 1280px" in problems and "at 375px" in problems
    assert "CSP violation" in problems
    assert "404 for http" in problems and "no-such-image.png" in problems
    assert not page.evaluate("() => window.inlineRan === true"), "the CSP let inline script run"

    # A page whose GOV.UK stylesheet did not load.
    page.goto(f"{live_server.url}/accessibility/")
    page.evaluate("() => document.querySelector('link[href*=\"govuk-frontend\"]').remove()")
    problems = "\n".join(page_problems(page))
    assert "GOV.UK stylesheet did not load" in problems
    assert "GOV.UK typography not applied" in problems
