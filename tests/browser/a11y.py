"""Accessibility and page-health checks for the browser tests.

``check_page`` runs axe-core (every rule it runs by default: WCAG 2.x A and AA plus best
practices) at a desktop and a phone width and fails on any violation, printing each
violation's id, help and the nodes it found. It also fails when the GOV.UK stylesheet did
not apply (an unstyled page could pass axe silently), when the nonce'd inline script did not
run, and when the browser reported a Content Security Policy violation, a script error or a
resource that failed to load.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import axe_playwright_python
from playwright.sync_api import Page, ViewportSize

REPO = Path(__file__).resolve().parents[2]
AXE_SOURCES = [
    REPO / "node_modules" / "axe-core" / "axe.min.js",  # the version package.json pins
    Path(axe_playwright_python.__file__).parent / "axe.min.js",  # bundled fallback
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}
WIDTHS = (DESKTOP, PHONE)


@functools.cache
def axe_source() -> str:
    for source in AXE_SOURCES:
        if source.exists():
            return source.read_text(encoding="utf-8")
    raise AssertionError(f"axe-core not found; looked in {', '.join(map(str, AXE_SOURCES))}")


# The page's CSP forbids adding a <script>; page.evaluate runs through DevTools instead.
_RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
  }));
}"""

_STYLES = """() => {
  const sheets = [...document.styleSheets].filter(s => s.href).map(s => {
    let rules = -1;
    try { rules = s.cssRules.length; } catch (e) {}
    return {href: s.href, rules};
  });
  const probe = document.querySelector("h1, .govuk-heading-l, .govuk-body") || document.body;
  const body = getComputedStyle(document.body);
  return {
    sheets,
    font: getComputedStyle(probe).fontFamily,
    bodyMargin: body.marginTop,
    bodyClass: document.body.className,
    h1: document.querySelectorAll("h1").length,
    title: document.title,
    // axe only reports "needs review" when every id an ARIA reference names is missing,
    // and nothing when some are: check each one.
    brokenReferences: [...document.querySelectorAll(
      "[aria-describedby], [aria-labelledby], [aria-controls], [aria-errormessage], label[for]"
    )].flatMap(el => ["aria-describedby", "aria-labelledby", "aria-controls",
                      "aria-errormessage", "for"]
      .filter(attr => el.hasAttribute(attr) && (attr !== "for" || el.tagName === "LABEL"))
      .flatMap(attr => el.getAttribute(attr).split(/\\s+/).filter(Boolean)
        .filter(id => !document.getElementById(id))
        .map(id => `${el.tagName.toLowerCase()}#${el.id || "?"} ${attr}="${id}"`))),
  };
}"""


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"      at {' > '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("summary"):
                lines.append("         " + node["summary"].replace("\n", "\n         "))
    return "\n".join(lines)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return page.evaluate(_RUN_AXE)  # type: ignore[no-any-return]


def assert_no_axe_violations(page: Page, label: str = "") -> None:
    violations = axe_violations(page)
    assert not violations, (
        f"axe found {len(violations)} accessibility violation(s) on {label or page.url}:\n"
        + format_violations(violations)
    )


def style_problems(page: Page) -> list[str]:
    info = page.evaluate(_STYLES)
    problems = []
    govuk = [s for s in info["sheets"] if "govuk-frontend" in s["href"]]
    if not govuk or govuk[0]["rules"] <= 0:
        problems.append(f"the GOV.UK stylesheet did not load: {info['sheets']}")
    ours = [s for s in info["sheets"] if "onestory.css" in s["href"]]
    if not ours or ours[0]["rules"] <= 0:
        problems.append(f"onestory.css did not load: {info['sheets']}")
    if "GDS Transport" not in info["font"]:
        problems.append(f"GOV.UK typography not applied (font-family {info['font']!r})")
    if info["bodyMargin"] != "0px":
        problems.append("govuk-template__body styles not applied (body has a margin)")
    if "govuk-frontend-supported" not in info["bodyClass"]:
        problems.append(
            "the nonce'd inline script did not run (no govuk-frontend-supported class on body)"
        )
    for reference in info["brokenReferences"]:
        problems.append(f"refers to an element that is not on the page: {reference}")
    if info["h1"] != 1:
        problems.append(f"expected exactly one <h1>, found {info['h1']}")
    if not info["title"].strip() or info["title"].startswith("–"):
        problems.append(f"page has no proper <title>: {info['title']!r}")
    return problems


def browser_problems(page: Page) -> list[str]:
    problems = getattr(page, "problems", None)
    if problems is None:
        return []
    csp: list[str]
    errors: list[str]
    csp, errors = problems.take()
    return [f"CSP violation: {m}" for m in csp] + errors


def page_problems(page: Page, widths: tuple[ViewportSize, ...] = WIDTHS) -> list[str]:
    """Everything wrong with the page as it stands, at each width. Puts the viewport back
    as it was."""
    page.wait_for_load_state("load")
    problems = style_problems(page)
    original = page.viewport_size
    for size in widths:
        if page.viewport_size != size:
            page.set_viewport_size(size)
        violations = axe_violations(page)
        if violations:
            problems.append(
                f"axe at {size['width']}px: {len(violations)} violation(s)\n"
                + format_violations(violations)
            )
    if original is not None and page.viewport_size != original:
        page.set_viewport_size(original)
    problems += browser_problems(page)
    return problems


def check_page(page: Page, label: str = "", widths: tuple[ViewportSize, ...] = WIDTHS) -> None:
    """Fail unless the page is styled, axe-clean at every width and free of CSP violations
    and script errors."""
    problems = page_problems(page, widths)
    assert not problems, f"{label or page.url}:\n" + "\n".join(problems)
