"""Every page, as each casework persona sees it, at 1280 px and 375 px: no axe-core
violations, GOV.UK styles applied, no CSP violations or script errors (see crawl.py).

The other roles are in test_crawl_other_roles.py: a separate file, so that pytest-xdist's
``--dist loadfile`` runs the two halves side by side.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import get_resolver
from playwright.sync_api import Page

from tests.browser.crawl import CASEWORK, COVERAGE, crawl
from tests.conftest import World
from tests.test_access_matrix import _url_names

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("persona", sorted(CASEWORK))
def test_every_page_is_accessible(
    persona: str, page: Page, live_server: Any, browser_world: World
) -> None:
    crawl(persona, page, live_server, browser_world)


def test_every_url_is_covered_by_a_browser_check() -> None:
    urls = set(_url_names(get_resolver()))
    missing = urls - set(COVERAGE)
    assert not missing, (
        f"URLs no browser test checks: {sorted(missing)}. Add them to the crawl (or to "
        "COVERAGE in tests/browser/crawl.py with the reason they are not pages)."
    )
    stale = set(COVERAGE) - urls
    assert not stale, f"COVERAGE lists URLs that no longer exist: {sorted(stale)}"
