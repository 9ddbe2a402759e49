"""``modelguard report``: the monitoring report of a period from a seeded registry, to standard
output or a file, as the report task writes it."""

from __future__ import annotations

import json

import pytest

# Airflow binds its log handlers to the streams of its first import: import it before capsys.
import modelguard.hooks.db  # noqa: F401
from modelguard.cli import main
from modelguard.pipelines.model_report import build_model_report
from modelguard.reporting import Period, report_json
from modelguard.storage.source import engine_for_url
from tests.reporting.history import MODEL, PERIOD_END, PERIOD_START, seed_history
from tests.world import new_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_report")
    world = new_world(root / "world")
    seed_history(
        engine_for_url(world.registry_url),
        report_root=world.config.storage.report_root,
        artifact_root=world.config.storage.artifact_root,
        outside=root / "outside",
    )
    return world


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def args(world, *extra):
    return (
        "report",
        "--config",
        world.config_path,
        "--start",
        "2026-07-01",
        "--end",
        "2026-07-08T00:00:00Z",
        "--registry-url",
        world.registry_url,
        *extra,
    )


def test_report_to_standard_output(world, capsys):
    code, out, err = run(capsys, *args(world))
    assert (code, err) == (0, "")
    expected = build_model_report(
        world.config, engine_for_url(world.registry_url), Period(PERIOD_START, PERIOD_END)
    )
    assert out == report_json(expected)
    assert json.loads(out)["model_name"] == MODEL


def test_report_to_a_file_with_absolute_links(world, capsys, tmp_path):
    target = tmp_path / "out" / "week.json"
    code, out, _ = run(capsys, *args(world, "--output", target, "--base-url", "http://af:8080"))
    assert code == 0
    assert out.startswith(f"wrote {target}: {MODEL} [2026-07-01T00:00:00, 2026-07-08T00:00:00)")
    assert "6 drift interval(s) (1 major)" in out and "1 rollback(s)" in out
    data = json.loads(target.read_text())
    urls = [i["report_url"] for i in data["drift_intervals"]]
    assert all(
        u.startswith("http://af:8080/modelguard/models/email_engagement/report?") for u in urls
    )


def test_report_refuses_a_backwards_period_and_a_missing_store(world, capsys, tmp_path):
    code, _, err = run(
        capsys,
        "report",
        "--config",
        world.config_path,
        "--start",
        "2026-07-08",
        "--end",
        "2026-07-01",
    )
    assert code == 2 and "must be before --end" in err
    code, _, err = run(
        capsys,
        *args(world)[:-2],
        "--registry-url",
        f"sqlite:///{tmp_path / 'missing.db'}",
    )
    assert code == 3 and "does not exist" in err
