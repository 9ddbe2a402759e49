"""The ``modelguard`` command, run in-process through ``main([...])`` and as a real subprocess
(``python -m modelguard.cli``), on real configs, a seeded SQLite source and SQLite registries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

# Airflow binds its log handlers to the streams of its first import: import it here, before
# capsys swaps them, not inside a test (whose streams are closed afterwards).
import modelguard.hooks.db  # noqa: F401
from modelguard.cli import main
from modelguard.core.scoring import score_model
from modelguard.core.window import Window
from modelguard.pipelines.deployment import read_labelled
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.world import (
    DRIFTED_RUN,
    HEALTHY_RUN,
    SEED_START,
    TRAIN_END,
    build_world,
    monitor,
    new_world,
    write_config,
)

MODEL = "email_engagement"
ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def bad_config(folder: Path, name: str = "bad.yaml") -> Path:
    """A config with four errors of four kinds in three sections."""
    raw = yaml.safe_load((ROOT / "config" / "main_config.yaml").read_text())
    raw["drift_detection"]["psi_bins"] = 1  # out of range
    raw["deployment"]["primary_metric"] = "auc"  # bad choice
    del raw["source"]["table"]  # missing key
    raw["monitoring"]["sensor_mod"] = "reschedule"  # unknown key
    path = folder / name
    path.write_text(yaml.safe_dump(raw))
    return path


# ------------------------------------------------------------------------------- check-config


def test_check_config_reports_every_error_of_a_file(tmp_path, capsys):
    path = bad_config(tmp_path)
    code, out, _ = run(capsys, "check-config", path)
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith(f"{path}: ")]
    assert [line.split(": ")[1] for line in lines] == [
        "source.table",
        "deployment.primary_metric",
        "drift_detection.psi_bins",
        "monitoring.sensor_mod",
    ], out
    assert f"{path}: drift_detection.psi_bins: 1 is out of range; allowed [2, 100]" in lines
    assert out.splitlines()[-1] == "1 config file(s) checked: 0 valid, 1 invalid; 4 error(s)"


def test_check_config_of_a_folder_with_a_good_and_a_bad_file(tmp_path, capsys):
    good = write_config(tmp_path)
    bad = bad_config(tmp_path, "other.yaml")
    (tmp_path / "notes.txt").write_text("not a config")
    code, out, _ = run(capsys, "check-config", tmp_path)
    assert code == 1
    assert f"{good}: ok: model email_engagement: 13 features" in out
    assert sum(line.startswith(f"{bad}: ") for line in out.splitlines()) == 4
    assert "notes.txt" not in out
    assert out.splitlines()[-1].startswith("2 config file(s) checked: 1 valid, 1 invalid")


def test_check_config_of_good_files_gives_one_line_per_model(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_config(tmp_path / "a")
    second = write_config(tmp_path / "b", model={"name": "churn"})
    code, out, err = run(capsys, "check-config", first, second)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{first}: ok: " + out.splitlines()[0].split(": ok: ")[1],
        f"{second}: ok: " + out.splitlines()[1].split(": ok: ")[1],
        "2 config file(s) checked: 2 valid, 0 invalid",
    ]
    assert "model email_engagement:" in out and "model churn:" in out


def test_check_config_refuses_two_configs_of_one_model_in_one_registry(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = write_config(tmp_path / "a"), write_config(tmp_path / "b")
    code, out, _ = run(capsys, "check-config", first, second)
    assert code == 1
    assert f"{second}: model.name: 'email_engagement' is already the model of {first}" in out


def test_check_config_of_a_path_that_does_not_exist(tmp_path, capsys):
    code, out, err = run(capsys, "check-config", tmp_path / "nope.yaml", tmp_path)
    assert code == 1
    assert f"{tmp_path / 'nope.yaml'}: no such file or folder" in err
    assert f"{tmp_path}: config folder {tmp_path} holds no *.yaml model config" in err
    assert "Traceback" not in err + out


def test_check_config_connections(tmp_path, capsys, monkeypatch):
    world = new_world(tmp_path)
    engine_for_url(world.source_url).connect().close()  # an empty database: no source table
    for key, value in world.env().items():
        monkeypatch.setenv(key, value)
    code, out, _ = run(capsys, "check-config", "--connections", world.config_path)
    assert code == 1
    assert "source.conn_id: connection 'modelguard_source'" in out
    assert "table 'email_sends' does not exist" in out
    assert "storage.registry_conn_id" not in out  # the registry opens (created on first use)
    monkeypatch.delenv("AIRFLOW_CONN_MODELGUARD_REGISTRY")
    code, out, _ = run(capsys, "check-config", "--connections", world.config_path)
    assert (
        "storage.registry_conn_id: Airflow connection 'modelguard_registry' is not defined" in out
    )


# ------------------------------------------------------------------------------- bootstrap


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A seeded source (June to mid-July, drift from July 10) and no champion."""
    return build_world(tmp_path_factory.mktemp("cli_source"), with_champion=False)


def bootstrap_args(seeded, world, *extra: str) -> list[str]:
    return [
        "bootstrap",
        "--config",
        str(world.config_path),
        "--start",
        SEED_START.isoformat(),
        "--end",
        TRAIN_END.isoformat(),
        "--source-url",
        seeded.source_url,
        "--registry-url",
        world.registry_url,
        *extra,
    ]


def test_bootstrap_registers_a_champion_scored_at_the_configured_threshold(
    seeded, tmp_path, capsys
):
    """Holdout metrics are score_model's at deployment.decision_threshold: moving the threshold
    moves accuracy and precision exactly as scoring says, and leaves ROC AUC alone."""
    stored = {}
    for threshold in (0.5, 0.35):
        world = new_world(tmp_path / str(threshold), deployment={"decision_threshold": threshold})
        code, out, err = run(capsys, *bootstrap_args(seeded, world, "--json"))
        assert code == 0, err
        result = json.loads(out)
        assert result["made_champion"] is True and result["label"] == f"{MODEL} v1 (id 1)"
        registry = ModelRegistry(
            engine_for_url(world.registry_url), world.config.storage.artifact_root
        )
        champion = registry.get_champion(MODEL)
        assert champion.metrics == result["metrics"]
        assert champion.metrics["decision_threshold"] == threshold
        stored[threshold] = (registry.load_model(champion), champion.metrics)
    frame = read_labelled(
        engine_for_url(seeded.source_url), seeded.config, Window(SEED_START, TRAIN_END), TRAIN_END
    )
    holdout = frame.iloc[stored[0.5][1]["n_train"] :].reset_index(drop=True)
    assert len(holdout) == stored[0.5][1]["n_holdout"]
    model = stored[0.5][0]
    for threshold, (_, metrics) in stored.items():
        scores, _ = score_model(model, holdout, "engaged", threshold=threshold)
        for key in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"):
            assert metrics[key] == pytest.approx(getattr(scores, key)), (threshold, key)
    low, high = stored[0.35][1], stored[0.5][1]
    assert low["accuracy"] != pytest.approx(high["accuracy"])
    assert low["precision"] != pytest.approx(high["precision"])
    assert low["recall"] > high["recall"] and low["roc_auc"] == pytest.approx(high["roc_auc"])


def test_bootstrap_is_refused_when_a_champion_exists_and_replace_keeps_it(seeded, tmp_path, capsys):
    world = new_world(tmp_path)
    code, out, _ = run(capsys, *bootstrap_args(seeded, world))
    assert code == 0
    assert out.startswith(f"champion: {MODEL} v1 (id 1)\n")
    assert "holdout (" in out and "at threshold 0.5: accuracy 0." in out
    code, out, err = run(capsys, *bootstrap_args(seeded, world))
    assert (code, out) == (1, "")
    assert err.startswith(f"modelguard bootstrap: error: model '{MODEL}' already has a champion")
    assert "--replace" in err and err.count("\n") == 1 and "Traceback" not in err
    registry = ModelRegistry(engine_for_url(world.registry_url))
    assert len(registry.list_versions(MODEL)) == 1  # nothing trained, nothing registered
    code, out, err = run(capsys, *bootstrap_args(seeded, world, "--replace"))
    assert code == 0, err
    assert out.startswith(f"champion: {MODEL} v2 (id 2), replacing {MODEL} v1 (id 1) (archived)")
    statuses = [(v.version, v.status) for v in registry.list_versions(MODEL)]
    assert statuses == [(1, "archived"), (2, "champion")]


def test_bootstrap_errors_are_one_line_and_an_exit_code(seeded, tmp_path, capsys, monkeypatch):
    world = new_world(tmp_path)
    # a source that cannot be reached: exit 3, naming the option
    args = bootstrap_args(seeded, world)
    args[args.index("--source-url") + 1] = f"sqlite:///{tmp_path / 'missing.db'}"
    code, _, err = run(capsys, *args)
    assert code == 3
    assert err.startswith("modelguard bootstrap: error: --source-url: could not open sqlite:///")
    assert "does not exist" in err and err.count("\n") == 1
    # no URL and no Airflow connection: exit 3, saying how to define it
    monkeypatch.delenv("AIRFLOW_CONN_MODELGUARD_SOURCE", raising=False)
    code, _, err = run(
        capsys,
        "bootstrap",
        "--config",
        world.config_path,
        "--start",
        "2026-06-01",
        "--end",
        "2026-07-01",
    )
    assert code == 3
    assert "Airflow connection 'modelguard_source' is not defined" in err
    assert "AIRFLOW_CONN_MODELGUARD_SOURCE=" in err
    # a config that does not exist, or is invalid: exit 1
    code, _, err = run(
        capsys,
        "bootstrap",
        "--config",
        tmp_path / "no.yaml",
        "--start",
        "2026-06-01",
        "--end",
        "2026-07-01",
    )
    assert code == 1 and "no.yaml: no such file or folder" in err
    code, _, err = run(
        capsys,
        "bootstrap",
        "--config",
        bad_config(tmp_path),
        "--start",
        "2026-06-01",
        "--end",
        "2026-07-01",
    )
    assert code == 1 and "4 errors in config file" in err
    assert "  drift_detection.psi_bins: 1 is out of range" in err
    # a date that is not ISO: a usage error, exit 2
    code, _, err = run(capsys, "bootstrap", "--start", "June", "--end", "2026-07-01")
    assert code == 2 and "'June' is not an ISO 8601 date" in err
    for text in (err,):
        assert "Traceback" not in text


def test_without_a_path_the_command_reads_where_the_dags_look(
    seeded, tmp_path, capsys, monkeypatch
):
    """MODELGUARD_CONFIG names a folder of two models: check-config checks both, bootstrap and
    status need --model to pick one."""
    folder = tmp_path / "models"
    folder.mkdir()
    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    for name in ("email_engagement", "engagement_b"):
        raw = yaml.safe_load(write_config(tmp_path).read_text())
        raw["model"]["name"] = name
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("MODELGUARD_CONFIG", str(folder))
    code, out, _ = run(capsys, "check-config")
    assert code == 0 and out.splitlines()[-1] == "2 config file(s) checked: 2 valid, 0 invalid"
    window = ["--start", "2026-06-01", "--end", "2026-06-15", "--as-of", "2026-06-18"]
    urls = ["--source-url", seeded.source_url, "--registry-url", registry_url]
    code, _, err = run(capsys, "bootstrap", *window, *urls)
    assert code == 2 and "is a folder of 2 model configs" in err and "--model NAME" in err
    code, _, err = run(capsys, "bootstrap", "--model", "nobody", *window, *urls)
    assert code == 2 and "its models: email_engagement, engagement_b" in err
    code, out, err = run(capsys, "bootstrap", "--model", "engagement_b", *window, *urls)
    assert code == 0, err
    assert out.startswith("champion: engagement_b v1 (id 1)")
    code, out, _ = run(capsys, "status", "--model", "engagement_b", "--registry-url", registry_url)
    assert code == 0 and out.startswith("model engagement_b\nchampion: engagement_b v1")
    code, out, _ = run(
        capsys, "status", "--model", "email_engagement", "--registry-url", registry_url
    )
    assert code == 0 and "champion: none yet" in out  # one registry, each model its own
    code, _, err = run(
        capsys, "status", "--config", folder / "email_engagement.yaml", "--model", "engagement_b"
    )
    assert code == 2 and "is the config of 'email_engagement'" in err


# ------------------------------------------------------------------------------- status


@pytest.fixture(scope="module")
def monitored(seeded, tmp_path_factory):
    """A champion bootstrapped through the command, then two monitored days: one healthy, one
    of the new audience (retrain, its retraining not started)."""
    import dataclasses

    world = new_world(tmp_path_factory.mktemp("cli_status"))
    world = dataclasses.replace(world, source_url=seeded.source_url)
    assert main(bootstrap_args(seeded, world)) == 0
    healthy = monitor(world, HEALTHY_RUN)
    drifted = monitor(world, DRIFTED_RUN)
    assert (healthy["verdict"], drifted["verdict"]) == ("healthy", "retrain")
    return world, drifted


def test_status_text(monitored, capsys):
    world, drifted = monitored
    code, out, err = run(
        capsys, "status", "--config", world.config_path, "--registry-url", world.registry_url
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"model {MODEL}"
    assert lines[1].startswith(f"champion: {MODEL} v1 (id 1) by bootstrap since ")
    assert "accuracy 0." in lines[2] and "trained on 2026-06-01..2026-07-01 (bootstrap)" in lines[2]
    assert lines[3] == "versions (1 newest of 1):"
    assert "champion" in lines[4] and "accuracy 0." in lines[4]
    assert lines[5] == "last 2 monitoring verdict(s) (newest interval first):"
    assert lines[6] == (
        "  [2026-07-14T00:00:00, 2026-07-15T00:00:00)  retrain  email_engagement_monitoring, "
        f"judged by {MODEL} v1 (id 1)"
    )
    assert lines[7].startswith("      drift: major drift on enough important features")
    assert "[2026-07-04T00:00:00, 2026-07-05T00:00:00)  healthy" in lines[8]
    assert lines[9].strip().startswith("drift: no feature has PSI")
    assert lines[10] == "open decisions: 1"
    assert "not_started: retraining never started" in lines[11]
    assert "airflow dags trigger email_engagement_retraining --run-id" in lines[11]
    assert f"--run-id {drifted['trigger_run_id']}" in lines[11]
    assert len(lines) == 12


def test_status_json_follows_an_open_decision_to_its_end(monitored, capsys):
    world, drifted = monitored

    def status() -> dict:
        code, out, _ = run(
            capsys,
            "status",
            "--config",
            world.config_path,
            "--registry-url",
            world.registry_url,
            "--json",
        )
        assert code == 0
        return json.loads(out)

    first = status()
    assert first["model_name"] == MODEL and first["n_versions"] == 1
    champion = first["champion"]
    assert champion["how"] == "bootstrap" and champion["effective_at"] is None
    assert champion["version"]["metrics"]["n_holdout"] > 0
    assert [v["decision"] for v in first["verdicts"]] == ["retrain", "healthy"]
    assert first["verdicts"][0]["interval_end"] == DRIFTED_RUN.isoformat()
    assert [o["state"] for o in first["open_decisions"]] == ["not_started"]

    # the trigger claims the retraining (as trigger_retraining does): started, nothing yet
    store = ResultStore(engine_for_url(world.registry_url))
    start, end = (datetime.fromisoformat(t) for t in drifted["window"])
    run_id = drifted["trigger_run_id"]
    claim = store.claim_retraining(
        MODEL, "email_engagement_monitoring", start, end, trigger_run_id=run_id, cooldown_hours=72
    )
    assert claim.granted
    assert [o["state"] for o in status()["open_decisions"]] == ["started"]

    # the retraining run registers its challenger: the gate has not judged it yet
    from email_engagement.bootstrap import train_and_register

    registry_engine = engine_for_url(world.registry_url)
    challenger = train_and_register(
        world.config,
        engine_for_url(world.source_url),
        registry_engine,
        datetime(2026, 6, 10),
        datetime(2026, 7, 10),
        make_champion=False,
        run_id=run_id,
    )
    opened = status()["open_decisions"]
    assert [(o["state"], o["challenger"]) for o in opened] == [("awaiting_gate", challenger.label)]

    # the gate rejects it: the decision is closed
    ModelRegistry(registry_engine).reject(MODEL, challenger.id, run_id=run_id, reason="not better")
    final = status()
    assert final["open_decisions"] == [] and final["n_versions"] == 2
    assert [v["status"] for v in final["versions"]] == ["rejected", "champion"]


def test_status_of_a_store_that_is_not_there(tmp_path, capsys):
    world = new_world(tmp_path)
    code, _, err = run(
        capsys,
        "status",
        "--config",
        world.config_path,
        "--registry-url",
        f"sqlite:///{tmp_path / 'typo.db'}",
    )
    assert code == 3 and "--registry-url: could not open" in err
    assert not (tmp_path / "typo.db").exists()  # a read-only command creates nothing
    empty = tmp_path / "empty.db"
    engine_for_url(f"sqlite:///{empty}").connect().close()
    code, _, err = run(
        capsys, "status", "--config", world.config_path, "--registry-url", f"sqlite:///{empty}"
    )
    assert code == 3 and "has no modelguard tables" in err and "modelguard bootstrap" in err


# ------------------------------------------------------------------------------- subprocess


def test_python_m_modelguard_cli_resolves_airflow_connections(seeded, tmp_path):
    """The real command in its own process: bootstrap and status through the config's Airflow
    connections (AIRFLOW_CONN_* variables), no URL given."""
    import dataclasses

    world = dataclasses.replace(new_world(tmp_path), source_url=seeded.source_url)
    env = {**os.environ, **world.env()}

    def command(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "modelguard.cli", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    boot = command(
        "bootstrap",
        "--config",
        str(world.config_path),
        "--start",
        "2026-06-01T00:00:00Z",
        "--end",
        "2026-06-20T00:00:00+00:00",
    )
    assert boot.returncode == 0, boot.stderr
    assert boot.stdout.startswith(f"champion: {MODEL} v1 (id 1)")
    shown = command("status", "--config", str(world.config_path), "--json")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert status["champion"]["version"]["training_end"] == "2026-06-20T00:00:00"
    again = command(
        "bootstrap",
        "--config",
        str(world.config_path),
        "--start",
        "2026-06-01",
        "--end",
        "2026-06-20",
    )
    assert again.returncode == 1 and "already has a champion" in again.stderr
    assert "Traceback" not in again.stderr
    checked = command("check-config", str(world.config_path), str(tmp_path / "absent.yaml"))
    assert checked.returncode == 1 and "absent.yaml: no such file or folder" in checked.stderr
