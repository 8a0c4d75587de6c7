"""Browser fixtures: one Debian Chromium for the session, a fresh context (cookies, viewport) per test."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
# How long a person waits for the page: a page's own steps (a click, a load) and what the tests expect to see. The
# demo servers share two cores with the whole parallel suite, so a second of lag is normal there; these waits end as
# soon as the page is right, and only a page that never gets there spends them.
ACTION_MS = 20_000
NAVIGATION_MS = 30_000
expect.set_options(timeout=15_000)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    is_mobile: bool

    def context_options(self) -> dict:
        options = {
            "viewport": {"width": self.width, "height": self.height},
            "locale": "en-GB",
            "color_scheme": "light",
        }
        if self.is_mobile:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        return options


PHONE = Viewport("phone", 390, 844, is_mobile=True)
DESKTOP = Viewport("desktop", 1280, 800, is_mobile=False)
VIEWPORTS = [PHONE, DESKTOP]


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`apt-get install -y chromium`); never `playwright install`.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(autouse=True)
def no_page_outlives_its_test(request) -> Iterator[None]:
    """Close the contexts a test opened itself (with helpers such as `new_page`): a page left open would keep
    its socket, heartbeats and check-ins going against the demo server for the rest of the run."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser: Browser = request.getfixturevalue("browser")
    before = set(browser.contexts)
    yield
    for context in browser.contexts:
        if context not in before:
            context.close()


@pytest.fixture(params=VIEWPORTS, ids=[viewport.name for viewport in VIEWPORTS])
def viewport(request) -> Viewport:
    """Both viewports by default; a test can pick one with `parametrize("viewport", ["phone"], indirect=True)`."""
    if isinstance(request.param, str):
        return {viewport.name: viewport for viewport in VIEWPORTS}[request.param]
    return request.param


@pytest.fixture
def context(browser: Browser, viewport: Viewport, demo_server) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=demo_server.url, **viewport.context_options())
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    try:
        yield context
    finally:
        context.close()


@dataclass
class PageErrors:
    """Uncaught JavaScript exceptions and console errors seen while the test ran."""

    messages: list[str]


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors([])


@pytest.fixture
def page(context: BrowserContext, page_errors: PageErrors) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.messages.append(f"uncaught: {error}"))

    def on_console(message) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):  # the app ships no favicon
            page_errors.messages.append(f"console: {message.text} ({url})")

    page.on("console", on_console)
    return page


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("phone-screenshots")


_LOG_START = pytest.StashKey[tuple[Path, int] | None]()


def _demo_server_log(item: pytest.Item) -> Path | None:
    """The log `demo_server` (tests/conftest.py) writes to, under its `demo*` temporary folder."""
    if "demo_server" not in getattr(item, "fixturenames", ()):
        return None
    base = item.config._tmp_path_factory.getbasetemp()  # noqa: SLF001 - pytest's own tmp_path_factory
    logs = sorted({path.resolve() for path in base.glob("demo*/server.log")}, key=lambda path: path.stat().st_mtime)
    return logs[-1] if logs else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Remember where the demo server's log stood, so a failure can show what the server said meanwhile."""
    log = _demo_server_log(item)
    item.stash[_LOG_START] = (log, log.stat().st_size) if log else None
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    start = item.stash.get(_LOG_START, None)
    if report.when == "call" and report.failed and start:
        log, offset = start
        with log.open(errors="replace") as file:
            file.seek(offset)
            lines = file.read().splitlines()
        # Keep errors and tracebacks; drop the one-line access log unless it shows a server error.
        kept = [line for line in lines if "[werkzeug] 127.0.0.1" not in line or '" 5' in line]
        if kept:
            report.sections.append(("demo server log during this test", "\n".join(kept[-120:])))
    return report


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
        pass


@dataclass(frozen=True)
class Site:
    folder: Path
    origin: str

    def publish(self, snippet: str) -> str:
        """Put the snippet on the site's page, as a brand pastes it before </body>; return the page's address."""
        self.folder.joinpath("index.html").write_text(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Atelier Nord</title>"
            "<link rel='icon' href='data:,'></head>"
            f"<body><h1>Lamps made in Lille</h1>\n{snippet}\n</body></html>")
        return f"{self.origin}/index.html"


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    """The brand's own web site: another origin on loopback, still empty."""
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                             functools.partial(QuietHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Site(tmp_path, f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        server.server_close()
