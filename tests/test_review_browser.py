"""The review screens in a real browser: Debian's headless Chromium through Selenium.

One server (uvicorn on a free loopback port, a SQLite store with rejections,
denials and a pend) and one browser session walk a payment team's day: sign in as
an analyst, look at the rejections, work the denials queue from the keyboard and
filter it, open a claim and read its trace (on a laptop screen too, and as printed),
release the pend, be refused a supervisor's action, sign out; sign in as a
supervisor, release the payment cycle, read the remittance advice, search (the
progress indicator shown while it runs), sign out. A screenshot of every page goes
to ``out/screenshots/review/`` (``EDI_SCREENSHOTS`` names another directory).

Chromium and chromedriver come from Debian (``make system-packages``); Selenium is
pointed at them, never at a browser it would download. Without them the test skips
on a laptop and fails when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.engine import Store, sqlite_url
from tests.review_support import AS_OF, PASSWORD, USERS, payer_today, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(os.environ.get("EDI_SCREENSHOTS",
                            Path(__file__).resolve().parents[1] / "out" / "screenshots"
                            / "review"))

pytestmark = pytest.mark.service


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need {', '.join(missing)} in CI "
                        "(make system-packages installs chromium and chromium-driver)")
        pytest.skip(f"no {', '.join(missing)} here")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    import uvicorn

    from review.app import create_app
    from review.settings import ReviewSettings

    work = tmp_path_factory.mktemp("review-browser")
    (work / "db").mkdir()
    url = sqlite_url(work / "db")
    archive = seed(url, work)
    store = Store(url)
    port = _free_port()
    config = uvicorn.Config(create_app(store, ReviewSettings(archive_dir=archive)),
                            host="127.0.0.1", port=port, access_log=False,
                            log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the review server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)
        store.dispose()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


class Walk:
    """The browser, the server and the screenshots of one walk through the screens."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver, self.base, self.shots = driver, base, 0
        if SHOTS.exists():
            shutil.rmtree(SHOTS)
        SHOTS.mkdir(parents=True)

    def go(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait_for(self, css: str, text: str = "", seconds: float = 10) -> Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        wait = WebDriverWait(self.driver, seconds)
        if text:
            wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def shot(self, name: str) -> None:
        """A screenshot of the whole page (the window grown to the page's height)."""
        self.shots += 1
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        # the window's own bars take part of its height: the page gets what is left
        bars = self.driver.execute_script("return window.outerHeight - window.innerHeight")
        self.driver.set_window_size(1280, max(800, min(int(height) + int(bars), 4000)))
        self.driver.save_screenshot(str(SHOTS / f"{self.shots:02d}-{name}.png"))
        self.driver.set_window_size(1280, 800)

    def sign_in(self, role: str) -> None:
        self.go("/login")
        self.wait_for("#name").send_keys(USERS[role])
        self.find("#password").send_keys(PASSWORD)
        self.find("#sign-in").click()
        self.wait_for("#who", USERS[role])

    def sign_out(self) -> None:
        self.find("#logout").click()
        self.wait_for("#sign-in")


def _tab_order(walk: Walk, stop: str, limit: int = 80) -> list[str]:
    """What the Tab key reaches from the top of the page, in order (each element
    once), up to the first element matching ``stop``."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    walk.driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
    reached: list[str] = []
    for _ in range(limit):
        ActionChains(walk.driver).send_keys(Keys.TAB).perform()
        element = walk.driver.switch_to.active_element
        name = element.get_attribute("id") or (
            f"{element.tag_name}:{element.text.strip().split(' ')[0]}")
        if not reached or reached[-1] != name:  # a date input's day, month and year
            reached.append(name)
        if walk.driver.execute_script("return arguments[0].matches(arguments[1])",
                                      element, stop):
            return reached
    raise AssertionError(f"Tab never reached {stop}: {reached}")


def _keyboard_works_the_queue(walk: Walk) -> None:
    """From the top of the denials queue the Tab key reaches the menu, then every
    filter in the order they read, then the sort links, then the claims; a focused
    link shows a focus ring and Enter opens the claim."""
    from selenium.webdriver.common.keys import Keys

    walk.go("/queues/denials")
    walk.wait_for("#totals")
    reached = _tab_order(walk, "#queue a.claim-link")
    wanted = ["a:Files", "a:Rejections", "a:Denials", "a:Pends", "logout", "f-partner",
              "f-payee", "f-lob", "f-code", "f-from", "f-to", "f-min", "f-max",
              "apply-filters", "a:Clear", "a:Claim", "a:Received", "a:Charge"]
    assert [name for name in reached if name in wanted] == wanted, reached
    link = walk.driver.switch_to.active_element
    ring = walk.driver.execute_script(
        "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];",
        link)
    assert ring == ["solid", "2px"]
    target = link.get_attribute("href")
    link.send_keys(Keys.ENTER)
    walk.wait_for("#timeline")
    assert walk.driver.current_url == target


def _fits_a_laptop_and_prints_without_navigation(walk: Walk, claim: str) -> None:
    """The claim page, the queues and the files at 1366x768 and 1280x720 scroll only
    down, never sideways; in print media the navigation, actions and forms are hidden
    and the claim is not."""
    for width, height in ((1366, 768), (1280, 720)):
        walk.driver.set_window_size(width, height)
        for path in ("/queues/rejections", "/queues/denials", "/queues/pends", "/files",
                     claim):
            walk.go(path)
            walk.wait_for("main h1")
            page, main = walk.driver.execute_script(
                "const m = document.querySelector('main'), d = document.documentElement;"
                "return [[d.scrollWidth, d.clientWidth], [m.scrollWidth, m.clientWidth]];")
            assert page[0] <= page[1] and main[0] <= main[1], (width, path, page, main)
    walk.wait_for("#timeline")
    walk.driver.save_screenshot(str(SHOTS / "claim-laptop-1280x720.png"))
    walk.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = walk.driver.execute_script(
            "const d = s => getComputedStyle(document.querySelector(s)).display;"
            "return [d('header.top'), d('.actions'), d('main'), d('#timeline'), d('#lines')];")
        assert shown[:2] == ["none", "none"] and "none" not in shown[2:], shown
    finally:
        walk.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    walk.driver.set_window_size(1280, 800)


def _search_shows_its_progress(walk: Walk) -> None:
    """The search form is an htmx form that posts (the value searched, PHI, goes into
    no URL: the address bar and the history stay as they were) and whose indicator,
    "Searching…", is hidden at rest, carries htmx's request class while the search
    runs, and is hidden again after."""
    walk.go("/search")
    form = walk.wait_for("#search-form")
    assert (form.get_attribute("method"), form.get_attribute("hx-post"),
            form.get_attribute("hx-target"), form.get_attribute("hx-indicator")) == (
        "post", "/search", "#results", "#busy")
    assert form.get_attribute("hx-get") is None and form.get_attribute("hx-push-url") is None
    address = walk.driver.current_url
    history = walk.driver.execute_script("return history.length")
    busy = walk.find("#busy")
    assert busy.get_attribute("role") == "status" and "htmx-indicator" in busy.get_attribute(
        "class")
    assert walk.driver.execute_script("return typeof htmx === 'object'")
    assert walk.driver.execute_script(
        "return getComputedStyle(document.querySelector('#busy')).opacity") == "0"
    walk.driver.execute_script(
        "window.searching = [];"
        "document.body.addEventListener('htmx:beforeSend', () => window.searching.push("
        "document.querySelector('#busy').classList.contains('htmx-request')));")
    walk.find("#search-q").send_keys("2356399792")
    walk.find("#search-kind").send_keys("Provider")
    walk.find("#search-go").click()
    walk.wait_for("#found")
    assert walk.driver.execute_script("return window.searching") == [True]
    assert walk.driver.current_url == address and "2356399792" not in address
    assert walk.driver.execute_script("return history.length") == history
    assert walk.driver.execute_script("return document.querySelector('#busy').textContent"
                                      ) == "Searching…"
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(walk.driver, 5).until(lambda d: d.execute_script(
        "return getComputedStyle(document.querySelector('#busy')).opacity") == "0")


def _decide_again_follows_the_filters(walk: Walk) -> None:
    """Filtering the pends queue (htmx swaps the results only) leaves a "Decide these
    again" form that carries the filter on screen, not the one the page loaded with."""
    from selenium.webdriver.support.ui import Select, WebDriverWait

    assert walk.find("#redecide-form input[name=lob]").get_attribute("value") == ""
    lob = walk.find("#queue tbody tr td:nth-child(6)").text  # claim, PCN, received, ...
    Select(walk.find("#f-lob")).select_by_visible_text(lob)
    walk.find("#apply-filters").click()
    WebDriverWait(walk.driver, 10).until(lambda d: "lob=" in d.current_url)
    WebDriverWait(walk.driver, 10).until(lambda d: d.execute_script(
        "const i = document.querySelector('#redecide-form input[name=lob]');"
        "return i !== null && i.value !== '';"))
    assert walk.find("#redecide-form input[name=lob]").get_attribute("value") == \
        Select(walk.find("#f-lob")).first_selected_option.get_attribute("value")


def test_a_payment_teams_day_in_a_real_browser(server: str, browser: Any) -> None:
    walk = Walk(browser, server)
    walk.go("/queues/denials")
    walk.wait_for("#sign-in")
    assert "/login?next=" in browser.current_url
    walk.shot("login")
    walk.sign_in("analyst")

    # the front end's rejections, by line of business (named as adjudication would)
    walk.go("/queues/rejections?lob=commercial")
    assert "commercial" in walk.wait_for("#queue").text
    walk.shot("rejections")

    # the denials queue worked from the keyboard, then filtered to timely filing
    # (htmx swaps the results in place)
    _keyboard_works_the_queue(walk)
    walk.go("/queues/denials")
    everything = walk.wait_for("#totals").text
    walk.find("#f-code").send_keys("29")
    walk.find("#f-max").send_keys("300")
    walk.find("#apply-filters").click()
    walk.wait_for("#totals", "claims")
    time.sleep(0.3)
    filtered = walk.find("#totals").text
    assert filtered != everything and "code=29" in browser.current_url
    walk.shot("denials-filtered")

    # a claim and its trace
    walk.find("#queue .claim-link").click()
    timeline = walk.wait_for("#timeline")
    assert "TIMELY-FILING" in timeline.text and "CO-29" in walk.find("#lines").text
    walk.shot("claim-trace")
    _fits_a_laptop_and_prints_without_navigation(
        walk, browser.current_url.removeprefix(walk.base))

    # the pend: release it with an allowed amount, seeing the decision before and after
    walk.go("/queues/pends")
    walk.wait_for("#queue .claim-link")
    walk.shot("pends")
    _decide_again_follows_the_filters(walk)
    walk.find("#queue .claim-link").click()
    walk.wait_for("#release-form")
    walk.shot("pend")
    walk.find("#allowed-1").send_keys("80.00")
    walk.find("#release-note").send_keys("fee agreed by phone")
    walk.find("#preview-release").click()
    walk.wait_for("#confirm")
    assert "80.00" in walk.find("#after").text
    walk.shot("pend-release-confirm")
    walk.find("#confirm").click()
    status = walk.wait_for("#claim-status")
    assert status.text in ("paid", "partially paid")
    walk.shot("pend-released")

    # a supervisor's action is refused to an analyst
    walk.go("/payments")
    walk.wait_for("#cycles")
    assert not browser.find_elements("css selector", "#preview-cycle")
    walk.shot("payments-analyst")
    walk.go("/payments/release?as_of=2026-11-23")
    refusal = walk.wait_for("#error-message")
    assert "needs a supervisor" in refusal.text
    walk.shot("refused")
    walk.sign_out()

    # the supervisor releases the payment cycle
    walk.sign_in("supervisor")
    with payer_today(AS_OF):  # the screens release a cycle as of today or the week after
        walk.go("/payments")
        walk.wait_for("#as-of").clear()
        walk.find("#as-of").send_keys("11232026")  # the date input reads the locale's order
        walk.find("#preview-cycle").click()
        walk.wait_for("#release-cycle")
        walk.shot("cycle-confirm")
        walk.find("#release-cycle").click()
        assert walk.wait_for("#cycle-outcome").text == "released"
    walk.shot("cycle-released")
    walk.find(".advice-link").click()
    walk.wait_for("h1", "Remittance advice")
    walk.shot("remittance-advice")
    walk.go("/payments")  # the overview, with the cycle released
    assert "released" in walk.wait_for("#cycles").text
    walk.shot("payments")

    # files and search, then sign out
    walk.go("/files")
    walk.wait_for("table.grid")
    walk.shot("files")
    _search_shows_its_progress(walk)
    walk.shot("search")
    walk.go("/files")
    walk.wait_for("#logout")
    walk.sign_out()
    walk.go("/files")
    walk.wait_for("#sign-in")
    walk.shot("signed-out")
    # no policy violation, no script error: only the refusal the walk asked for
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
              and "the server responded with a status of 403" not in e["message"]]
    assert errors == []
