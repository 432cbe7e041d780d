"""Driving the Prefect UI as a person does, in Debian's Chromium through Playwright (its own
browser download cannot work here): the browser, a screenshot when a test fails, and filling
in a schema form by clicks, found by each field's title as the form shows it."""

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


def chromium() -> str:
    """Debian's Chromium; CI requires it (SERVICEOPS_TEST_REQUIRE_BROWSER), elsewhere its
    absence skips the browser tests."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("SERVICEOPS_TEST_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (SERVICEOPS_TEST_REQUIRE_BROWSER) but missing")
        pytest.skip("chromium not installed: apt-get install chromium")
    return path


@contextmanager
def browser_page(screenshots: Path) -> Iterator[Page]:
    """A page of a fresh headless Chromium; on an error, a full-page screenshot of where it
    stood is saved in `screenshots` (the test's tmp dir) and named in the error."""
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(60_000)
        try:
            yield page
        except BaseException as error:
            shot = screenshots / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            error.add_note(f"screenshot of the page: {shot} ({page.url})")
            raise
        finally:
            browser.close()


def field(page: Page, title: str) -> Locator:
    """The form property titled `title` (optional ones show "(Optional)" after it)."""
    label = re.compile("^" + re.escape(title) + r"( \(Optional\))?$")
    heading = page.locator(".schema-form-property__label", has_text=label)
    return page.locator(".schema-form-property", has=heading).last


def type_into(page: Page, title: str, text: str) -> None:
    field(page, title).locator("textarea, input").first.fill(text)


def pick(page: Page, title: str, option: str) -> None:
    """Open the field's select and click the option (a click focuses it; the arrow key opens
    it when the click alone did not)."""
    control = field(page, title).locator(".p-select-button__control").first
    control.click()
    if not page.locator("[role=listbox]").is_visible():
        control.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()


def submit(page: Page) -> None:
    """Submit the run form; the server's answer to the run's creation is checked first, so a
    refusal fails with what the server said rather than a navigation timeout."""
    with page.expect_response(
        lambda response: "/create_flow_run" in response.url and response.request.method == "POST"
    ) as created:
        page.get_by_role("button", name="Submit").click()
    response = created.value
    assert response.ok, f"the run was not created: HTTP {response.status} {response.text()}"
    page.wait_for_url(re.compile(r"/deployments/deployment/[^/]+(\?.*)?$"))
