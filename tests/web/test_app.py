"""The Model health page and its JSON API in process: the app mounted at /modelguard as
Airflow's api-server mounts plugin apps, real tokens of Airflow's SimpleAuthManager (bearer and
the UI's ``_token`` cookie), a real seeded registry. The real api-server and a real browser are
in tests/stack/test_model_health_page.py."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from modelguard.links import interval_report_url
from modelguard.pipelines.model_report import build_model_report
from modelguard.reporting import Period, report_json
from modelguard.storage.alerts import alerts_table
from modelguard.storage.source import engine_for_url
from tests.reporting.history import (
    DAG,
    MAJOR_END,
    MODEL,
    OUTSIDE_END,
    PERIOD_END,
    PERIOD_START,
    seed_history,
)
from tests.world import new_world

API = f"/modelguard/api/models/{MODEL}"
PAGE = f"/modelguard/models/{MODEL}"


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    root = tmp_path_factory.mktemp("page")
    world = new_world(root / "world")
    engine = engine_for_url(world.registry_url)
    seed_history(
        engine,
        report_root=world.config.storage.report_root,
        artifact_root=world.config.storage.artifact_root,
        outside=root / "outside",
    )
    with engine.begin() as conn:  # a message a page must show as text
        row = conn.execute(sa.select(alerts_table).limit(1)).mappings().one()
        conn.execute(
            sa.insert(alerts_table).values(
                {
                    **{k: v for k, v in row.items() if k != "alert_id"},
                    "key": "x",
                    "message": "<script>alert('x')</script>",
                    "status": "cleared",
                    "cleared_interval_end": datetime(2026, 7, 5),
                }
            )
        )
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        yield world


@pytest.fixture(scope="module")
def client(world):
    from airflow.api_fastapi.app import init_auth_manager

    from modelguard.web.app import create_app

    init_auth_manager()
    root = FastAPI()
    root.mount("/modelguard", create_app())
    with TestClient(root, base_url="http://127.0.0.1:8080") as client:
        yield client


def token(role: str, username: str | None = None) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    user = SimpleAuthManagerUser(username=username or role.lower() or "nobody", role=role)
    return get_auth_manager().generate_jwt(user)


def bearer(role: str = "VIEWER") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role)}"}


def test_without_a_login_the_api_answers_401_and_the_pages_send_to_the_login(client):
    for path in (API, f"{API}/report?start=2026-07-01&end=2026-07-08", "/modelguard/api/models"):
        assert client.get(path).status_code == 401, path
    for path in ("/modelguard/", PAGE, f"{PAGE}/report?dag_id={DAG}&start=x&end=y"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 302, path
        location = response.headers["location"]
        assert location.startswith("/auth/login?next="), location
        assert "127.0.0.1%3A8080%2Fmodelguard" in location
    response = client.get(API, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 403  # Airflow's answer to an invalid JWT
    assert (
        client.get(PAGE, headers={"Authorization": "Bearer x"}, follow_redirects=False).status_code
        == 302
    )


def test_a_user_without_read_access_to_the_models_dags_is_refused(client):
    nobody = {"Authorization": f"Bearer {token('', 'nobody')}"}
    response = client.get(API, headers=nobody)
    assert response.status_code == 403
    assert f"read access to the DAG '{DAG}'" in response.json()["detail"]
    page = client.get(PAGE, headers=nobody)
    assert page.status_code == 403 and "read access" in page.text
    assert client.get("/modelguard/api/models", headers=nobody).json()["models"] == []


def test_the_api_serves_the_pages_data_and_the_report_of_any_period(client, world):
    response = client.get(API, headers=bearer())
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["champion"]["version"]["label"].startswith(f"{MODEL} v1")
    assert data["period"]["end"] == "2026-07-07T00:00:00"  # the newest stored interval
    start, end = PERIOD_START.isoformat(), PERIOD_END.isoformat()
    report = client.get(f"{API}/report", params={"start": start, "end": end}, headers=bearer())
    expected = report_json(
        build_model_report(
            world.config,
            engine_for_url(world.registry_url),
            Period(PERIOD_START, PERIOD_END),
        )
    )
    assert report.text == expected  # root-relative links: the page's base is the mount's
    same = client.get(API, params={"start": start, "end": end}, headers=bearer())
    assert same.text == expected
    assert (
        client.get(
            f"{API}/report", params={"start": end, "end": start}, headers=bearer()
        ).status_code
        == 400
    )
    assert (
        client.get(
            f"{API}/report", params={"start": "soon", "end": end}, headers=bearer()
        ).status_code
        == 400
    )
    assert client.get(f"{API}/report", headers=bearer()).status_code == 422  # start, end required
    assert client.get("/modelguard/api/models/nope", headers=bearer()).status_code == 404
    listed = client.get("/modelguard/api/models", headers=bearer()).json()
    assert [m["name"] for m in listed["models"]] == [MODEL]
    assert listed["models"][0]["page_url"] == PAGE


def test_the_page_with_the_uis_session_cookie(client):
    client.cookies.set("_token", token("VIEWER"))
    try:
        index = client.get("/modelguard/")
        assert index.status_code == 200 and f'href="{PAGE}"' in index.text
        page = client.get(
            PAGE, params={"start": "2026-07-01T00:00:00", "end": "2026-07-08T00:00:00"}
        )
    finally:
        client.cookies.clear()
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert f"{MODEL} v1" in html and "by rollback" in html
    assert 'href="/modelguard/static/modelguard.css"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing external
    cells = html.count('class="cell sev-')
    assert cells == 3 * 6  # features x intervals
    assert html.count('class="cell sev-major"') == 2
    url = interval_report_url("", MODEL, DAG, datetime(2026, 7, 4), MAJOR_END)
    assert f'href="{url.replace("&", "&amp;")}"' in html
    assert 'class="point not-matured"' in html and 'class="label-delay"' in html
    assert "b=20, c=45, p=0.0020" in html and "challenger not better: b=30 &gt; c=28" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html and "<script>alert" not in html
    assert ">rollback<" in html and ">rejection<" in html
    assert 'id="concept-drift"' in html and "concept drift in company_size" in html
    assert client.get("/modelguard/static/modelguard.css").status_code == 200


def test_a_heatmap_cell_opens_the_intervals_stored_report(client, world):
    url = interval_report_url("", MODEL, DAG, datetime(2026, 7, 4), MAJOR_END)
    response = client.get(url, headers=bearer())
    assert response.status_code == 200
    assert "Drift report 2026-07-04T00:00_2026-07-05T00:00" in response.text
    plots = len(
        list(
            (
                world.config.storage.report_root
                / DAG
                / "2026-07-04T00:00_2026-07-05T00:00"
                / "plots"
            ).glob("*.png")
        )
    )
    assert plots > 2 and response.text.count('src="data:image/png;base64,') == plots
    assert 'src="plots/' not in response.text  # every plot inlined
    assert "default-src 'self'" in response.headers["content-security-policy"]
    outside = interval_report_url("", MODEL, DAG, datetime(2026, 7, 6), OUTSIDE_END)
    refused = client.get(outside, headers=bearer())
    assert refused.status_code == 404 and "report_root" in refused.text
    missing = interval_report_url("", MODEL, DAG, datetime(2026, 7, 4, 1), MAJOR_END)
    assert client.get(missing, headers=bearer()).status_code == 404
    other = interval_report_url(
        "", MODEL, "churn_monitoring", datetime(2026, 7, 1), datetime(2026, 7, 2)
    )
    assert client.get(other, headers=bearer()).status_code == 404  # another model's run


def test_the_plugin_mounts_the_app_and_lists_the_external_view():
    from fastapi import FastAPI as FastAPIApp

    from modelguard.plugin import ModelguardPlugin

    plugin = ModelguardPlugin()
    (app,) = plugin.fastapi_apps
    assert app["url_prefix"] == "/modelguard" and isinstance(app["app"], FastAPIApp)
    assert plugin.fastapi_apps[0]["app"] is app["app"]  # one app per process
    (view,) = plugin.external_views
    assert view["name"] == "Model health" and view["href"] == "/modelguard/"
    assert view["url_route"] == "model-health"


def test_task_processes_loading_plugins_do_not_import_the_page():
    code = (
        "import sys\n"
        "from airflow.sdk.plugins_manager import integrate_macros_plugins\n"
        "integrate_macros_plugins()\n"
        "from airflow import plugins_manager\n"
        "names = [p.name for p in plugins_manager._get_plugins()[0]]\n"
        "print(json.dumps([names, 'modelguard.web.app' in sys.modules, 'fastapi' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True
    )
    names, page_loaded, _ = json.loads(out.stdout.strip().splitlines()[-1])
    assert "modelguard" in names and not page_loaded
