"""Browser tests: Debian's Chromium driven by Playwright against the live test server."""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason="needs Debian's Chromium (apt-get install chromium)")
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in the test thread, and Django refuses ORM
    calls from such a thread unless told it is deliberate. Only the browser tests say so,
    from their first test to the end of the run (the database teardown needs it too)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """The interface speaks the browser's language; these tests read the English."""
    return {**browser_context_args, "locale": "en-US"}


@pytest.fixture
def login(page, live_server):
    def as_user(username: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        expect(page.locator("#user-tools")).to_contain_text(username)

    return as_user


@pytest.fixture
def admin_url(live_server):
    """The live server's address of an admin path, e.g. admin_url("customers/customer/")."""

    def url(path: str = "") -> str:
        return f"{live_server.url}/admin/{path.lstrip('/')}"

    return url


@pytest.fixture
def customer_url(admin_url):
    """A customer's page: "change" (the form), "history" or "proposed-changes"."""

    def url(customer, view: str = "change") -> str:
        return admin_url(f"customers/customer/{customer.pk}/{view}/")

    return url


@pytest.fixture
def see_message(page):
    """The admin's message list shows `text` (Django's messages after a redirect)."""

    def see(text: str) -> None:
        expect(page.locator(".messagelist")).to_contain_text(text)

    return see


@pytest.fixture
def open_work_item(page, admin_url):
    """As an approver: Home › My work items › the record; lands on Proposed changes."""

    def open_item(record: str) -> None:
        page.goto(admin_url())
        page.click("#my-work-items a.section")
        expect(page.locator("#content h1")).to_have_text("My work items")
        page.locator("#result_list a", has_text=record).click()
        expect(page.locator("#content h1")).to_have_text("Proposed changes")

    return open_item


@pytest.fixture
def decide(page):
    """On Proposed changes: choose Approve, Reject or Request change, write the
    comment on the decision page and confirm with the page's button."""

    def decide_(action: str, comment: str = "") -> None:
        page.get_by_role("link", name=action, exact=True).click()
        expect(page.locator("#id_comment")).to_be_visible()
        if comment:
            page.fill("#id_comment", comment)
        page.get_by_role("button", name=action, exact=True).click()

    return decide_


@pytest.fixture
def workflow_menu(page):
    """On a customer's page: open the Workflow menu and choose `item` (each item opens
    its page: the changes, and a justification, comment or confirmation)."""

    def choose(item: str) -> None:
        page.click(".workflow-menu summary")
        page.locator(".workflow-menu-items").get_by_role(
            "link", name=item, exact=True
        ).click()

    return choose


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded import files go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def upload_import(page, admin_url):
    """As a clerk: Customers › Import, choose a CSV (given as text) and Check the file;
    lands on the import's job page."""

    def upload(text: str, behaviour: str | None = None, name: str = "customers.csv"):
        page.goto(admin_url("customers/customer/"))
        page.click("a.importlink")
        expect(page.locator("#content h1")).to_have_text("Import customers")
        page.set_input_files(
            "#id_file",
            files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}],
        )
        if behaviour is not None:
            page.select_option("#id_behaviour", label=behaviour)
        page.click("input[type=submit][value='Check the file']")
        expect(page.locator("#job-state")).to_be_visible()

    return upload
