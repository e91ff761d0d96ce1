"""The HTML compliance report in a real browser: Debian's headless Chromium, driven by Playwright
for Python through the system binary (never a downloaded browser).

The page is filtered to failures, one control is expanded and a screenshot is taken; the test
asserts on what the page shows and that it made no network request. Chromium and Playwright are
installed by .ci/run (`apt-get install -y chromium`, the `test` extra): the test skips when they
are missing on a developer's machine, and fails when they are missing in CI (CI=true).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from auditor.api import scan
from auditor.catalog import load_catalog
from auditor.report.compliance import build_report, report_to_html
from tests.conftest import FIXTURES

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000  # bounds every browser step; nothing here should take more than a second


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message + "; .ci/run must install it")
        pytest.skip(message)
    return path


def _playwright():  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("playwright is not installed; it is part of the `test` extra")
        pytest.skip("playwright is not installed (pip install playwright; no browser download needed)")
    return sync_playwright


def test_html_report_in_headless_chromium(tmp_path: Path) -> None:
    chromium = _chromium()
    sync_playwright = _playwright()
    result = scan([FIXTURES / "noncompliant"], ignore=["SC"])
    report = build_report(result, load_catalog(), "fixtures/noncompliant")
    failing = [row.rule.id for row in report.rows if row.status == "fail"]
    assert "XF002" in failing
    page_file = tmp_path / "noncompliant.html"
    page_file.write_text(report_to_html(report), encoding="utf-8")

    requests: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1200, "height": 1400}, offline=True)
        try:
            context.set_default_timeout(TIMEOUT_MS)
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.goto(page_file.as_uri())

            page.select_option("#status-filter", "fail")
            visible = page.locator("details.control:visible")
            assert visible.count() == len(failing)
            assert page.locator("#shown-count").inner_text() == f"{len(failing)} of {len(report.rows)} controls shown"
            assert set(visible.evaluate_all("rows => rows.map(r => r.id)")) == set(failing)

            control = page.locator("details#XF002")
            control.locator("summary").click()
            assert control.get_attribute("open") is not None
            evidence = control.locator("table.evidence")
            assert evidence.is_visible()
            text = evidence.inner_text()
            assert "nginx/conf.d/storefront.conf:5" in text and "server app:8080;" in text
            assert "uses port 8080, but the app listens on 3000" in text and "also Dockerfile:41" in text
            assert control.locator("h3", has_text="Remediation").is_visible()

            page.select_option("#family-filter", "cross_file")
            assert page.locator("details.control:visible").count() == sum(1 for i in failing if i.startswith("XF"))
            page.select_option("#family-filter", "all")
            control.scroll_into_view_if_needed()
            screenshot = tmp_path / "report-failures.png"
            page.screenshot(path=str(screenshot), full_page=False)
            assert screenshot.stat().st_size > 10_000
        finally:
            context.close()
    assert requests == [page_file.as_uri()], f"the page requested more than itself: {requests}"


def _noncompliant_page(tmp_path: Path):  # type: ignore[no-untyped-def]
    from auditor.report.compliance import collect_scope

    result = scan([FIXTURES / "noncompliant"], ignore=["SC"])
    report = build_report(result, load_catalog(), "fixtures/noncompliant", scope=collect_scope(result))
    page_file = tmp_path / "noncompliant.html"
    page_file.write_text(report_to_html(report), encoding="utf-8")
    return report, page_file


def _screenshots_dir(tmp_path: Path) -> Path:
    """AUDITOR_SCREENSHOTS=DIR keeps the screenshots for a person to look at."""
    folder = Path(os.environ.get("AUDITOR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_report_at_1280_and_390_px_in_light_and_dark(tmp_path: Path) -> None:
    chromium = _chromium()
    sync_playwright = _playwright()
    report, page_file = _noncompliant_page(tmp_path)
    shots = _screenshots_dir(tmp_path)
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            backgrounds = {}
            for width, scheme in ((1280, "light"), (390, "light"), (390, "dark"), (1280, "dark")):
                page = browser.new_page(viewport={"width": width, "height": 2000}, color_scheme=scheme)
                page.set_default_timeout(TIMEOUT_MS)
                page.on("request", lambda request: requests.append(request.url))
                page.goto(page_file.as_uri())
                # nothing wider than the viewport: no sideways scrolling of the page itself
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                assert page.locator("#verdict").is_visible() and page.locator("#scope").is_visible()
                assert page.locator("#chart-family svg.bar").count() == len(report.by_family())
                backgrounds[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
                page.screenshot(path=str(shots / f"report-{width}-{scheme}.png"))
                page.select_option("#status-filter", "fail")
                control = page.locator("details#XF002")
                control.locator("summary").click()
                control.scroll_into_view_if_needed()
                box = control.locator("table.evidence").bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                page.screenshot(path=str(shots / f"report-{width}-{scheme}-XF002.png"))
                page.close()
            assert backgrounds["light"] == "rgb(255, 255, 255)" and backgrounds["dark"] != backgrounds["light"]
        finally:
            browser.close()
    assert set(requests) == {page_file.as_uri()}, f"the page requested more than itself: {requests}"
    assert all((shots / f"report-{w}-light.png").stat().st_size > 10_000 for w in (1280, 390))


def test_print_shows_everything_and_the_pdf_holds_every_failure(tmp_path: Path) -> None:
    import unicodedata

    chromium = _chromium()
    sync_playwright = _playwright()
    try:
        from pypdf import PdfReader
    except ImportError:
        if IN_CI:
            pytest.fail("pypdf is not installed; it is part of the `test` extra")
        pytest.skip("pypdf is not installed (pip install pypdf)")
    from auditor.report.compliance import _evidence_rows
    from auditor.textsafe import display

    report, page_file = _noncompliant_page(tmp_path)
    pdf = _screenshots_dir(tmp_path) / "noncompliant.pdf"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(page_file.as_uri())
            page.select_option("#status-filter", "pass")  # a filter set on screen must not shorten the print
            page.emulate_media(media="print")
            assert not page.locator("#expand-all").is_visible() and not page.locator(".filters").is_visible()
            assert page.locator("details.control:visible").count() == len(report.rows)
            assert page.locator("details#XF002 table.evidence").is_visible(), "closed controls print expanded"
            breaks = page.locator("section.family").evaluate_all(
                "sections => sections.map(s => getComputedStyle(s).breakBefore)")
            assert breaks and set(breaks) == {"page"}
            page.pdf(path=str(pdf), format="A4", print_background=True)
        finally:
            browser.close()
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= len(report.by_family())  # a page break per family at least

    def flat(text: str) -> str:  # ligatures (fi) undone, line breaks and spacing ignored
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))

    text = flat("\n".join(page.extract_text() for page in reader.pages))
    failing = [row for row in report.rows if row.status == "fail"]
    assert len(failing) > 50
    missing = []
    for row in failing:
        if flat(row.rule.id) not in text:
            missing.append(row.rule.id)
        for item in _evidence_rows(row):
            if item["kind"] != "failing":
                continue
            for piece in (f"{item['path']}:{item['line']}", item["text"], item["snippet"]):
                if piece and flat(display(piece)) not in text:
                    missing.append(f"{row.rule.id}: {piece[:80]}")
    assert missing == [], f"not in the PDF: {missing[:10]}"
