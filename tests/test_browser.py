"""Browser tests of the web view: a real server, headless Debian Chromium (Playwright), no mocks.

One server for the module (its first Step compiles the engine's kernels); each test opens its own
browser context, so its own Solara session. Screenshots go to tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import sync_playwright

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIRST_STEP_MS,
    WAIT_MS,
    Server,
    nudge,
    open_page,
    shot,
    status,
    step,
    type_lever,
)
from viz import config
from viz.recipe import builtin_scenarios


@pytest.fixture(scope="module")
def server():
    srv = Server()
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(server, browser):
    external: list[str] = []
    pg = open_page(browser, server.url, external)
    pg.external = external
    yield pg
    pg.context.close()


def _small(page, size: int = 3000) -> None:
    """Shrink the audience through its lever, so the runs of a test are quick."""
    type_lever(page, "lever-audience-size", size)
    page.wait_for_selector(f".funnel-status:has-text('{size:,} consumers')")


def test_page_loads_with_the_flagship_offline(page):
    assert status(page).startswith(f"{config.FLAGSHIP}:")
    assert "day 0 of" in status(page)
    assert page.locator(".kpi").count() == 8
    assert page.locator("circle.node").count() <= config.SAMPLE_NODES
    assert page.locator(".scenario-select").inner_text().strip().endswith(config.FLAGSHIP)
    shot(page, "web_loaded")
    assert page.external == [], f"the page asked the internet for {page.external[:3]}"


def test_step_advances_the_day_and_the_stage_chart_changes(page):
    page.wait_for_selector(".panel-stages svg.stage-svg[data-days='0']")
    step(page, 1)
    page.wait_for_selector(".panel-stages svg.stage-svg[data-days='1'] polyline.stage-line", state="attached")
    page.wait_for_selector(".funnel-status:has-text('day 1 of')")
    step(page, 2)
    page.wait_for_selector(".funnel-status:has-text('day 2 of')")
    page.wait_for_selector(".panel-stages svg.stage-svg[data-days='2']")
    points = page.locator(".panel-stages polyline[data-stage='aware']").get_attribute("points").split()
    assert len(points) == 2 and points[0] != points[1]  # the aware line moved in two days of paid reach
    # the network's colours follow the stages: someone became aware in two days of paid reach
    assert page.locator("circle.node:not([data-stage='0'])").count() > 0
    shot(page, "web_stepped")


def test_a_slider_change_rebuilds_the_model(page):
    step(page, 1)
    days = int(re.search(r"day 1 of (\d+)", status(page)).group(1))
    builds = int(re.search(r"model #(\d+)", status(page)).group(1))
    nudge(page, "lever-days")
    page.wait_for_selector(f".funnel-status:has-text('day 0 of {days + 1}')")
    assert f"model #{builds + 1}" in status(page)
    assert page.locator(".lever-days").inner_text().startswith(f"Days: {days + 1}")


def test_bad_inputs_show_their_error_and_change_nothing(page, tmp_path):
    before = status(page)
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: broken\naudience: {size: [\n")
    page.set_input_files(".funnel-upload input[type=file]", str(bad))
    error = page.locator(".funnel-error")
    error.wait_for()
    assert "broken.yaml" in error.inner_text() and "YAML does not parse" in error.inner_text()
    shot(page, "web_upload_error")
    big = tmp_path / "big.yaml"
    big.write_text("name: big\n" + "# padding\n" * 120_000)
    page.set_input_files(".funnel-upload input[type=file]", str(big))
    page.wait_for_selector(".funnel-error:has-text('1 MB')")
    type_lever(page, "lever-audience-size", config.DEFAULT_MAX_AUDIENCE + 1)
    page.wait_for_selector(".funnel-error:has-text('limited to 200,000')")
    assert status(page) == before


def test_ab_compare_shows_both_runs(page):
    _small(page)
    page.click(".btn-pin")
    page.wait_for_selector(".compare-table")
    page.locator(".lever-retargeting-on input").click(force=True)
    page.wait_for_selector(".compare-changes:has-text('retargeting.on True -> False')")
    page.click(".btn-end")
    page.wait_for_selector(".run-day:has-text('Day 90 of 90')", timeout=120_000)
    page.wait_for_selector(".compare-day:has-text('day 90')")
    table = page.locator(".compare-table")
    header = table.locator("th").all_inner_texts()
    assert header == ["metric", "baseline", "current", "difference"]
    rows = [table.locator(f"tr:has-text('{m}') td").all_inner_texts() for m in ("Reach", "Spend")]
    assert all(r[1] != "0" and r[2] != "0" for r in rows[:1])  # both runs reached people
    spend = rows[1]
    assert spend[1].startswith("$") and spend[2].startswith("$")
    assert spend[3].startswith("-")  # without retargeting the brand spends less
    shot(page, "web_compare")


def test_a_node_click_shows_a_journey(page):
    """A pick on day 30 replays days 1-30 (the engine's journal, as ``funnelsim trace``) and keeps
    tracing as the run goes on."""
    _small(page)
    for day in range(1, 31):
        step(page, day)
    # the furthest-along consumer in the sample (the most to show)
    consumer = page.evaluate("""() => [...document.querySelectorAll('circle.node')].reduce(
        (a, b) => +b.dataset.stage > +a.dataset.stage ? b : a).dataset.node""")
    node = page.locator(f"circle.node[data-node='{consumer}']")
    node.click()
    page.wait_for_selector(f".journey-title:has-text('Journey of consumer {consumer}')")
    page.wait_for_selector(".journey-ready:has-text('Days 1-30 replayed')", timeout=FIRST_STEP_MS)
    rows = page.locator(".journey-table tbody tr")
    assert rows.count() >= 1
    assert page.locator(".journey-table th").all_inner_texts() == [
        "day", "event", "platform", "source", "purpose", "stage", "purchase", "trust"]
    before = rows.count()
    page.click(".btn-end")
    page.wait_for_selector(".run-day:has-text('Day 90 of 90')", timeout=120_000)
    page.locator(".panel-journey").get_by_text("also impressions").click()
    page.wait_for_selector(".journey-rows.with-impressions")
    # (that the days after the pick are traced, and equal a run traced from day 0: tests/test_viz.py)
    days = [int(d) for d in page.locator(".journey-table tbody td:first-child").all_inner_texts()]
    assert days == sorted(days) and len(days) >= before
    assert page.locator(".journey-export").inner_text().lower().count(f"journey-{consumer}.") == 2
    shot(page, "web_journey")
    type_lever(page, "journey-input", 7)
    page.wait_for_selector(".journey-title:has-text('Journey of consumer 7')")
    page.wait_for_selector(".journey-ready:has-text('Days 1-90 replayed')", timeout=WAIT_MS)


def test_two_pages_are_independent(server, browser):
    other = next((n for n in builtin_scenarios() if n != config.FLAGSHIP), None)
    assert other is not None, "needs a second built-in scenario"
    a = open_page(browser, server.url)
    b = open_page(browser, f"{server.url}?scenario={other}")
    try:
        assert status(a).startswith(f"{config.FLAGSHIP}:") and status(b).startswith(f"{other}:")
        step(a, 1)
        step(a, 2)
        assert "day 0 of" in status(b)
        step(b, 1)
        assert "day 2 of" in status(a) and "day 1 of" in status(b)
        a.click(".btn-reset")
        a.wait_for_selector(".funnel-status:has-text('day 0 of')")
        assert "day 1 of" in status(b) and status(b).startswith(f"{other}:")
        shot(b, "web_second_page")
    finally:
        a.context.close()
        b.context.close()
