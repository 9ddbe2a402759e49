"""The Model health page on the real stack: the plugin's FastAPI app mounted by the real
api-server, behind Airflow's login (SimpleAuthManager users of three roles), on a registry
seeded with a week of history, and in a real browser (Debian's Chromium, headless and offline,
driven by Playwright): the page loads, shows the champion and the drift heatmap, and a heatmap
cell opens that interval's stored report. No request leaves the machine.

Screenshots are kept under ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from modelguard.storage.source import engine_for_url
from tests.reporting.history import DAG, MAJOR_END, MODEL, seed_history
from tests.stack.client import StackClient, expect
from tests.stack.conftest import AirflowStack
from tests.world import new_world

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE = f"/modelguard/models/{MODEL}"
API = f"/modelguard/api/models/{MODEL}"
# admin: the stack's own user; viewer: read-only role; nobody: a user without a role
USERS = "admin:admin,viewer:viewer,nobody:"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("health-page")
    world = new_world(root / "world")
    seed_history(
        engine_for_url(world.registry_url),
        report_root=world.config.storage.report_root,
        artifact_root=world.config.storage.artifact_root,
        outside=root / "outside",
    )
    return world


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, tmp_path_factory, world):
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world.source_url,
        registry_url=world.registry_url,
        config_path=world.config_path,
        home=tmp_path_factory.mktemp("health-page-home"),
        extra_env={"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS},
    ) as started:
        yield started


@pytest.fixture(scope="module")
def passwords(stack) -> dict[str, str]:
    """The admin's password and those SimpleAuthManager generated for the other two."""
    return json.loads((stack.home / "passwords.json").read_text())


def login(stack, passwords, username: str) -> str:
    response = httpx.post(
        f"{stack.base_url}/auth/token",
        json={"username": username, "password": passwords[username]},
    )
    return expect(response, 201)["access_token"]


def get(stack, path: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{stack.base_url}{path}", headers=headers, timeout=30, **kwargs)


def test_without_a_login_401_for_the_api_and_the_login_for_the_page(stack):
    assert get(stack, API).status_code == 401
    assert get(stack, f"{API}/report?start=2026-07-01&end=2026-07-08").status_code == 401
    page = get(stack, PAGE, follow_redirects=False)
    assert page.status_code == 302
    assert page.headers["location"].startswith("/auth/login?next=")


def test_a_bearer_token_reads_the_seeded_champion(stack, passwords):
    for user in ("admin", "viewer"):
        response = get(stack, API, login(stack, passwords, user))
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["champion"]["version"]["label"].startswith(f"{MODEL} v1")
        assert data["champion"]["how"] == "rollback"
    week = get(
        stack,
        f"{API}/report?start=2026-07-01T00:00:00&end=2026-07-08T00:00:00",
        login(stack, passwords, "viewer"),
    ).json()
    assert week["counts"]["drift_intervals"] == 6 and week["counts"]["alerts"] == 2
    assert [p["matured"] for p in week["performance"]] == [True, True, True, False]


def test_a_user_without_read_access_to_the_dags_gets_403(stack, passwords):
    token = login(stack, passwords, "nobody")
    assert get(stack, API, token).status_code == 403
    assert get(stack, PAGE, token).status_code == 403
    assert get(stack, f"/api/v2/dags/{DAG}", token).status_code == 403  # Airflow agrees


def test_airflow_lists_the_plugins_app_and_external_view(stack):
    with StackClient(stack.base_url, stack.username, stack.password) as api:
        plugins = expect(api.get("/api/v2/plugins"), 200)["plugins"]
    (ours,) = [p for p in plugins if p["name"] == "modelguard"]
    (view,) = ours["external_views"]
    assert (view["name"], view["href"], view["url_route"]) == (
        "Model health",
        "/modelguard/",
        "model-health",
    )
    (app,) = ours["fastapi_apps"]
    assert app["url_prefix"] == "/modelguard" and app["app"] == "fastapi.applications.FastAPI"


@pytest.fixture(scope="module")
def browser():
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(60_000)  # every wait fails in a minute, never hangs
        try:
            yield context
        finally:
            context.close()


def test_in_a_browser_the_page_sends_a_visitor_to_airflows_login(stack, browser):
    page = browser.new_page()
    page.goto(f"{stack.base_url}{PAGE}")
    assert urlsplit(page.url).path.startswith("/auth/login")
    page.close()


def test_in_a_browser_the_page_shows_the_champion_and_a_cell_opens_its_report(
    stack, passwords, browser
):
    requested: list[str] = []
    browser.on("request", lambda request: requested.append(request.url))
    browser.add_cookies(
        [{"name": "_token", "value": login(stack, passwords, "viewer"), "url": stack.base_url}]
    )
    page = browser.new_page()
    response = page.goto(
        f"{stack.base_url}{PAGE}?start=2026-07-01T00:00:00&end=2026-07-08T00:00:00"
    )
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert f"{MODEL} v1" in page.inner_text("#champion")
    assert page.locator("table.heatmap").count() == 1
    assert page.locator("table.heatmap td.cell").count() == 3 * 6
    assert page.locator("td.cell.sev-major a").count() == 2
    assert page.locator("svg.perf-plot circle.not-matured").count() == 1
    css = page.evaluate(
        "getComputedStyle(document.querySelector('td.cell.sev-major')).backgroundColor"
    )
    assert css == "rgb(198, 40, 40)"  # the bundled stylesheet was applied
    page.screenshot(path=str(SCREENSHOTS / "model_health_page.png"), full_page=True)

    with page.expect_navigation():
        page.locator("td.cell.sev-major a").first.click()
    assert urlsplit(page.url).path == f"{PAGE}/report"
    assert f"dag_id={DAG}" in page.url and "2026-07-04" in page.url
    heading = page.inner_text("h1")
    assert heading.startswith(f"Drift report 2026-07-04T00:00_{MAJOR_END:%Y-%m-%dT%H:%M}")
    # Bounded: a promise that never settles would hang evaluate() (it has no timeout).
    page.evaluate(
        "Promise.race([Promise.all([...document.images].map(i => i.decode())),"
        " new Promise((_, no) => setTimeout(() => no(new Error('plots not decoded in 30 s')),"
        " 30000))])"
    )
    widths = page.evaluate("[...document.images].map(i => i.naturalWidth)")
    assert len(widths) > 2 and all(w > 100 for w in widths)  # every plot inlined and drawn
    page.screenshot(path=str(SCREENSHOTS / "model_health_interval_report.png"), full_page=True)
    page.close()

    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, sorted(set(requested))


def test_in_a_browser_the_external_view_embeds_the_page_in_airflows_ui(stack, passwords, browser):
    browser.add_cookies(
        [{"name": "_token", "value": login(stack, passwords, "admin"), "url": stack.base_url}]
    )
    page = browser.new_page()
    page.goto(f"{stack.base_url}/plugin/model-health")
    frame = page.frame_locator("iframe")
    frame.locator("a.model-link").first.wait_for(timeout=60_000)
    assert frame.locator("a.model-link").first.inner_text() == MODEL
    page.screenshot(path=str(SCREENSHOTS / "airflow_ui_model_health.png"))
    page.close()
