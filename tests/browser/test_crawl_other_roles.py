"""Every page, as each non-casework persona sees it and as someone signed out sees it, at
1280 px and 375 px: no axe-core violations, GOV.UK styles applied, no CSP violations or
script errors (see crawl.py)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.crawl import OTHER_ROLES, crawl, crawl_signed_out
from tests.conftest import World

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("persona", sorted(OTHER_ROLES))
def test_every_page_is_accessible(
    persona: str, page: Page, live_server: Any, browser_world: World
) -> None:
    crawl(persona, page, live_server, browser_world)


def test_signed_out_pages_are_accessible(
    page: Page, live_server: Any, browser_world: World
) -> None:
    crawl_signed_out(page, live_server, browser_world)
