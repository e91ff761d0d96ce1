"""The HTML compliance report in a real browser: Debian's headless Chromium, driven by Playwright
for Python through the system binary (never a downloaded browser).

The page is filtered to failures, one control is expanded and a screenshot is taken; the test
asserts on what the page shows and that it made no network request. Chromium and Playwright are
installed by .ci/run (`apt-get install -y chromium`, the `test` extra): the test skips when they
are missing on a developer's machine, and fails when they are missing in CI (CI=true).
"""
from __future__ import annotations

import os
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
