"""Small helpers for driving the Streamlit app in Chromium."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import SHOTS


def settle(page, timeout: float = 60.0) -> None:
    """Wait until Streamlit has finished the rerun the last action started.

    The app marks its state on the root element (data-test-script-state); a rerun may start a
    moment after the click, so the state must read "notRunning" several times in a row, with no
    element left over from the previous run (data-stale). On a loaded machine a click that lands
    while elements are still being replaced can hit a moving target and be lost.
    """
    page.wait_for_timeout(250)
    app = page.locator('[data-testid="stApp"]').first
    stale = page.locator('[data-stale="true"]')
    deadline, calm = time.time() + timeout, 0
    while time.time() < deadline and calm < 3:
        state = app.get_attribute("data-test-script-state")
        calm = calm + 1 if state == "notRunning" and stale.count() == 0 else 0
        page.wait_for_timeout(150)


def no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, "exception shown: " + boxes.first.inner_text()[:2000]


def go(page, step: str) -> None:
    """Open a step from the sidebar navigation, e.g. '3 Graders'."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=step).first.click()
    settle(page)
    no_exception(page)


# Streamlit scrolls an inner container, so the document is only as tall as the window and a
# full_page screenshot stops at the first 1,000 px: measure the tallest scrolling element instead.
_CONTENT_HEIGHT = """() => {
    let h = document.documentElement.scrollHeight;
    for (const el of document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"],'
                                               + ' [data-testid="stSidebarContent"], section')) {
        h = Math.max(h, el.scrollHeight);
    }
    return h;
}"""
MAX_SHOT_HEIGHT = 12_000


def shot(page, name: str) -> Path:
    """A screenshot of the whole page: the viewport grows to the content's height for the shot."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1440, "height": 1000}
    height = min(MAX_SHOT_HEIGHT, max(size["height"], int(page.evaluate(_CONTENT_HEIGHT))))
    try:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(400)  # let the layout settle at the new height
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


def choose(page, scope, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` inside `scope` (a locator or the page).

    On a loaded machine the first click can land while Streamlit is still replacing the widget, and
    the option list never opens. A person would open it again, so this does too (at most three
    times), each time only once the app is idle.
    """
    box = scope.locator('[data-testid="stSelectbox"]', has_text=label).first
    field = box.locator('input[role="combobox"]').first
    choice = page.locator('[role="option"]', has_text=option).first
    for attempt in range(3):
        settle(page)
        field.click()
        field.fill(option)
        try:
            # The option list re-renders while it filters: the locator is resolved again at each
            # attempt, and playwright retries a click on a detached element by itself.
            choice.click(timeout=20_000)
            break
        except Exception:
            if attempt == 2:
                shot(page, "debug-choose")
                raise
            page.keyboard.press("Escape")
    settle(page)
    assert field.input_value() == option, f"{label}: chose {field.input_value()!r}, wanted {option!r}"


def button(scope, text: str):
    return scope.locator('[data-testid^="stBaseButton"]', has_text=text).first


def expander(scope, title: str):
    exp = scope.locator('[data-testid="stExpander"]', has_text=title).first
    summary = exp.locator("summary").first
    details = exp.locator("details").first
    for _ in range(3):
        if details.get_attribute("open") is not None:
            break
        summary.click()
        try:  # the click may land mid-rerun and be lost: check that it opened
            exp.locator("details[open]").first.wait_for(timeout=10_000)
        except Exception:
            continue
    return exp


def open_app(page, url: str):
    """Load the app and return the sidebar."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30_000)
    settle(page)
    no_exception(page)
    return page.locator('[data-testid="stSidebar"]')


def load_preset(page, title: str) -> None:
    presets = expander(page.locator('[data-testid="stSidebar"]'), "Presets")
    choose(page, presets, "Preset", title)
    # The click can be lost mid-rerun on a loaded machine (the config stays as it was): loading is
    # idempotent, so click again (at most three times, only once the app is idle) while the sidebar's
    # summary of the config hasn't changed. A preset that is already the config changes nothing: three
    # clicks, the same config.
    summary = page.locator('[data-testid="stSidebar"]').first
    before = summary.inner_text()
    for _ in range(3):
        button(presets, "Load preset").click()
        settle(page)
        if summary.inner_text() != before:
            break
    no_exception(page)


def upload(scope, label: str, path) -> None:
    """Give the file uploader whose label contains `label` a file."""
    box = scope.locator('[data-testid="stFileUploader"]', has_text=label).first
    box.locator('input[type="file"]').first.set_input_files(str(path))
    # The rerun starts only once the upload has finished: wait for the file's chip first.
    # Long names are shortened in the middle ("reinfo…-quiz.jsonl"): match the tail.
    box.get_by_text(Path(str(path)).name[-10:]).first.wait_for(timeout=60_000)


def wait_for(page, selector: str, timeout: float = 60_000, shot_name: str = "failure") -> None:
    """Wait for `selector`; on a timeout, keep a screenshot of what the page showed instead."""
    try:
        page.wait_for_selector(selector, timeout=timeout)
    except Exception:
        shot(page, f"debug-{shot_name}")
        raise


def click_until(page, target, selector: str, timeout: float = 90_000, shot_name: str = "failure") -> None:
    """Click `target` until `selector` shows, for idempotent actions only (never Submit).

    On a loaded machine a click can land while Streamlit is still replacing the elements under it;
    the page then stays idle and nothing happens. A person would click again, so the test does too
    (at most three times), but only once the app is idle: a slow run is waited for, never re-clicked.
    """
    deadline = time.time() + timeout / 1000
    target.click()
    for attempt in range(3):
        while time.time() < deadline:
            try:
                page.wait_for_selector(selector, timeout=10_000)
                return
            except Exception:  # playwright's TimeoutError: is the app still working?
                state = page.locator('[data-testid="stApp"]').first.get_attribute("data-test-script-state")
                if state == "notRunning":
                    break
        if time.time() >= deadline or attempt == 2:
            break
        settle(page)
        if page.locator(selector).first.is_visible():
            return
        target.click()
    shot(page, f"debug-{shot_name}")
    raise AssertionError(f"{selector} did not show within {timeout / 1000:.0f} s of clicking")


def click_in_fragment(page, target, acknowledged: str, ticker, timeout: float = 90_000,
                      shot_name: str = "failure") -> None:
    """Click `target`, a button inside a fragment that reruns on a timer (the grading progress), until the
    `acknowledged` selector shows.

    Streamlit can drop a click that lands while the fragment reruns. A click counts as lost only once the
    fragment has redrawn `ticker` (a locator whose text changes as it runs) twice since, with no
    acknowledgement: the run that handled the click would have shown it. Only then is it clicked again.
    """
    deadline = time.time() + timeout / 1000
    ack = page.locator(acknowledged)
    target.click()
    last, redraws = ticker.all_inner_texts(), 0
    while time.time() < deadline:
        if ack.count():
            return
        now = ticker.all_inner_texts()
        redraws, last = redraws + (now != last), now
        if redraws >= 2 and target.count() and target.is_enabled():
            target.click()
            redraws = 0
        page.wait_for_timeout(100)  # the polling interval of the condition above, not a wait for the app
    shot(page, f"debug-{shot_name}")
    raise AssertionError(f"{acknowledged} did not show within {timeout / 1000:.0f} s of clicking")
