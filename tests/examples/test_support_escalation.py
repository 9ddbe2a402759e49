"""Synthetic support tickets: generator, scenarios, idempotent writes, the escalation model, and
the second model monitored by modelguard next to email_engagement (one source database with
two tables, one registry), end to end without Airflow."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

from modelguard.config import ModelguardConfig, load_config
from modelguard.core.stats import psi
from modelguard.core.window import Window
from support_escalation import generator as gen
from support_escalation.generator import (
    NEW_AREA,
    SCENARIOS,
    generate_tickets,
    seed_source,
    write_tickets,
)
from support_escalation.model import build_pipeline, load_model, save_model, train_model
from support_escalation.schema import (
    CATEGORIES,
    COLUMNS,
    FEATURES,
    ID_COLUMN,
    LABEL_COLUMN,
    LABEL_DELAY_HOURS,
    LABEL_TIME_COLUMN,
    SCORE_COLUMN,
    TABLE,
    TIME_COLUMN,
    tickets_table,
)
from tests.world import write_config as write_email_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = ROOT / "config" / "support_escalation.yaml"
START = datetime(2026, 6, 1)  # a Monday
DRIFT = datetime(2026, 6, 15)
END = datetime(2026, 6, 29)
INPUTS = list(FEATURES)
PER_HOUR = 40  # the demo volume the config is sized for


@pytest.fixture(scope="module")
def config() -> ModelguardConfig:
    return load_config(CONFIG_FILE)


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return generate_tickets(START, END)


def _drifted(scenario: str, **kwargs) -> pd.DataFrame:
    return generate_tickets(START, END, scenario=scenario, drift_start=DRIFT, **kwargs)


def _after(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame[TIME_COLUMN] >= DRIFT]


def _before(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame[TIME_COLUMN] < DRIFT]


def _psi(reference: pd.DataFrame, current: pd.DataFrame, column: str) -> float:
    return psi(reference[column], current[column], categorical=FEATURES[column] == "categorical")


# --- shape, volume, base rate, labels --------------------------------------------------------


def test_schema_and_realistic_values(baseline: pd.DataFrame) -> None:
    df = baseline
    assert tuple(df.columns) == COLUMNS
    assert df[ID_COLUMN].is_unique
    assert df[TIME_COLUMN].is_monotonic_increasing
    assert df[TIME_COLUMN].min() >= START and df[TIME_COLUMN].max() < END
    assert df[TIME_COLUMN].dt.tz is None
    for col, kind in FEATURES.items():
        dtype_ok = (
            pd.api.types.is_float_dtype if kind == "numeric" else pd.api.types.is_string_dtype
        )
        assert dtype_ok(df[col]), col
    for col, categories in CATEGORIES.items():
        assert set(df[col]) == set(categories), col
    assert df["message_length"].between(3, 3000).all()
    assert df["message_length"].median() < df["message_length"].mean()  # long tail
    assert (df["attachments"] == 0).mean() > 0.5
    assert df["account_age_days"].between(1, 3650).all()
    prior = df.groupby("customer_tier")["prior_tickets_90d"].mean()
    assert prior["enterprise"] > 3 * prior["free"]  # big accounts open many tickets
    # only first_response_minutes has gaps: tickets scored before an agent answered
    assert 0.12 < df["first_response_minutes"].isna().mean() < 0.18
    assert df.drop(columns="first_response_minutes").notna().all().all()
    urgent = df["priority"] == "urgent"
    response = df["first_response_minutes"]
    assert response[urgent].median() < response[~urgent].median() / 2
    assert df[SCORE_COLUMN].gt(0).all() and df[SCORE_COLUMN].lt(1).all()
    assert roc_auc_score(df[LABEL_COLUMN], df[SCORE_COLUMN]) > 0.65


def test_volume_has_a_weekday_and_business_hours_pattern(baseline: pd.DataFrame) -> None:
    hours = (END - START) / timedelta(hours=1)
    assert 0.9 * PER_HOUR < len(baseline) / hours < 1.1 * PER_HOUR
    opened = baseline[TIME_COLUMN]
    per_day = baseline.groupby(opened.dt.normalize()).size()
    weekend = per_day.index.dayofweek >= 5
    assert per_day[~weekend].mean() > 2.5 * per_day[weekend].mean()
    assert per_day.min() > 200  # drift_detection.min_rows: even a weekend day is analysed
    by_hour = baseline.groupby(opened.dt.hour).size()
    assert by_hour.loc[13:17].mean() > 2.5 * by_hour.loc[1:5].mean()


def test_base_rate_and_relations(baseline: pd.DataFrame) -> None:
    df = baseline
    assert 0.15 <= df[LABEL_COLUMN].mean() <= 0.25
    rate = df.groupby("priority")[LABEL_COLUMN].mean()
    assert rate["urgent"] > rate["high"] > rate["normal"] > rate["low"]
    tier = df.groupby("customer_tier")[LABEL_COLUMN].mean()
    assert tier["enterprise"] > tier["pro"] > tier["free"]


def test_labels_mature_within_the_delay(baseline: pd.DataFrame) -> None:
    df = baseline
    assert set(df[LABEL_COLUMN]) == {0, 1} and df[LABEL_COLUMN].notna().all()
    assert df[LABEL_TIME_COLUMN].notna().all()
    delay = (df[LABEL_TIME_COLUMN] - df[TIME_COLUMN]) / timedelta(hours=1)
    assert delay.min() >= 0 and delay.max() <= LABEL_DELAY_HOURS
    escalated = df[LABEL_COLUMN] == 1
    assert (delay[~escalated] == LABEL_DELAY_HOURS).all()  # "no" is final only at the horizon
    assert delay[escalated].mean() == pytest.approx(LABEL_DELAY_HOURS / 2, rel=0.1)
    # the delay is a parameter
    short = generate_tickets(START, START + timedelta(hours=6), label_delay_hours=6)
    short_delay = (short[LABEL_TIME_COLUMN] - short[TIME_COLUMN]) / timedelta(hours=1)
    assert short_delay.max() == 6


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data(baseline: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(generate_tickets(START, END), baseline)
    other = generate_tickets(START, START + timedelta(hours=8), seed=8)
    assert not other[ID_COLUMN].isin(baseline[ID_COLUMN]).any()
    mine = baseline[baseline[TIME_COLUMN] < START + timedelta(hours=8)]
    assert len(other) != len(mine) or not np.array_equal(
        other["message_length"].to_numpy(), mine["message_length"].to_numpy()
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_range_split_equals_whole_range(scenario: str) -> None:
    a, b, c = datetime(2026, 6, 1, 3), datetime(2026, 6, 2, 10, 17, 30), datetime(2026, 6, 3)
    kwargs = {"scenario": scenario, "drift_start": datetime(2026, 6, 2, 10, 17), "seed": 3}
    whole = generate_tickets(a, c, **kwargs)
    parts = pd.concat([generate_tickets(a, b, **kwargs), generate_tickets(b, c, **kwargs)])
    pd.testing.assert_frame_equal(parts.reset_index(drop=True), whole)


def test_tz_aware_bounds_and_empty_range() -> None:
    naive = generate_tickets(datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 14))
    aware = generate_tickets(
        datetime(2026, 6, 1, 12, tzinfo=UTC) + timedelta(hours=-2),
        pd.Timestamp("2026-06-01 16:00", tz="Europe/Berlin"),
    )
    pd.testing.assert_frame_equal(aware, naive)
    empty = generate_tickets(START, START)
    assert tuple(empty.columns) == COLUMNS and len(empty) == 0


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"scenario": "meteor_strike"}, ("meteor_strike", "product_launch")),
        ({"magnitude": -1.0}, ("-1.0", ">= 0")),
        ({"magnitude": float("nan")}, ("nan",)),
        ({"tickets_per_hour": -5}, ("-5", ">= 0")),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict, named: tuple[str, ...]) -> None:
    with pytest.raises(ValueError) as err:
        generate_tickets(START, START + timedelta(hours=1), **kwargs)
    assert all(part in str(err.value) for part in named), str(err.value)


# --- scenarios -------------------------------------------------------------------------------


def test_rows_before_drift_start_match_the_undrifted_world(baseline: pd.DataFrame) -> None:
    for scenario in SCENARIOS[1:]:
        pd.testing.assert_frame_equal(_before(_drifted(scenario)), _before(baseline))
        pd.testing.assert_frame_equal(_drifted(scenario, magnitude=0.0), baseline)


def test_no_scenario_shows_no_drift(baseline: pd.DataFrame, config: ModelguardConfig) -> None:
    for col in FEATURES:
        assert _psi(_before(baseline), _after(baseline), col) < config.drift_detection.psi_warning


def test_product_launch_shifts_area_and_length_only(
    baseline: pd.DataFrame, config: ModelguardConfig
) -> None:
    launched = _drifted("product_launch")
    after = _after(launched)
    reference = _before(baseline)
    critical = config.drift_detection.psi_critical
    assert _psi(reference, after, "product_area") > critical
    assert _psi(reference, after, "message_length") > critical
    assert NEW_AREA not in set(_before(launched)["product_area"])
    assert (after["product_area"] == NEW_AREA).mean() == pytest.approx(0.3, abs=0.03)
    assert after["message_length"].median() > 1.8 * _after(baseline)["message_length"].median()
    for col in set(INPUTS) - {"product_area", "message_length"}:
        pd.testing.assert_series_equal(after[col], _after(baseline)[col])
    # the escalation function is the same, so tickets of the new, immature area escalate more
    rate = after.groupby("product_area")[LABEL_COLUMN].mean()
    assert rate[NEW_AREA] > rate.drop(NEW_AREA).max()


def test_concept_drift_keeps_inputs_changes_relation(baseline: pd.DataFrame) -> None:
    drifted = _after(_drifted("concept_drift"))
    reference = _after(baseline)
    pd.testing.assert_frame_equal(drifted[INPUTS], reference[INPUTS])
    assert abs(drifted[LABEL_COLUMN].mean() - reference[LABEL_COLUMN].mean()) < 0.02
    before = reference.groupby("product_area")[LABEL_COLUMN].mean()
    now = drifted.groupby("product_area")[LABEL_COLUMN].mean()
    assert before["integrations"] > before["billing"] + 0.05
    assert now["billing"] > now["integrations"] + 0.05
    by_priority = drifted.groupby("priority")[LABEL_COLUMN].mean()
    assert by_priority["urgent"] < by_priority["low"]  # the fast-track reverses priority
    # the production score no longer ranks
    assert roc_auc_score(reference[LABEL_COLUMN], reference[SCORE_COLUMN]) > 0.65
    assert roc_auc_score(drifted[LABEL_COLUMN], drifted[SCORE_COLUMN]) < 0.55


def test_audience_shift_is_launch_plus_concept_drift_and_rewards_retraining(
    baseline: pd.DataFrame,
) -> None:
    audience = _drifted("audience_shift")
    launched = _after(_drifted("product_launch"))
    after = _after(audience)
    pd.testing.assert_frame_equal(after[INPUTS], launched[INPUTS])
    assert not after[LABEL_COLUMN].equals(launched[LABEL_COLUMN])
    stale = train_model(_before(baseline), FEATURES)
    cut = DRIFT + timedelta(days=7)
    fresh = train_model(after[after[TIME_COLUMN] < cut], FEATURES)
    later = after[after[TIME_COLUMN] >= cut]
    y = later[LABEL_COLUMN]
    p_stale = stale.predict_proba(later[INPUTS])[:, 1]
    p_fresh = fresh.predict_proba(later[INPUTS])[:, 1]
    assert roc_auc_score(y, p_fresh) > roc_auc_score(y, p_stale) + 0.15
    assert ((p_fresh >= 0.5) == y).mean() > ((p_stale >= 0.5) == y).mean() + 0.03


# --- database --------------------------------------------------------------------------------


def _count(engine: sa.Engine, table: str = TABLE) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def test_write_tickets_is_idempotent(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tickets.db'}")
    day1, day2, day3 = START, START + timedelta(days=1), START + timedelta(days=2)
    first = generate_tickets(day1, day2)
    second = generate_tickets(day2, day3, scenario="product_launch")
    assert write_tickets(engine, first, start=day1, end=day2) == len(first)
    assert write_tickets(engine, second, start=day2, end=day3) == len(second)
    write_tickets(engine, first, start=day1, end=day2)
    write_tickets(engine, second, start=day2, end=day3)
    assert _count(engine) == len(first) + len(second)

    back = pd.read_sql_table(TABLE, engine).sort_values(TIME_COLUMN, kind="stable")
    back = back.reset_index(drop=True)
    expected = pd.concat([first, second], ignore_index=True)
    assert back[ID_COLUMN].is_unique
    assert back[ID_COLUMN].tolist() == expected[ID_COLUMN].tolist()
    pd.testing.assert_series_equal(back[TIME_COLUMN], expected[TIME_COLUMN])
    pd.testing.assert_series_equal(back[LABEL_TIME_COLUMN], expected[LABEL_TIME_COLUMN])
    missing = back["first_response_minutes"].isna()
    assert missing.sum() == expected["first_response_minutes"].isna().sum() > 0
    assert NEW_AREA in set(back["product_area"])

    # A narrower range replaces only that range; a frame outside its range changes nothing.
    half = day1 + timedelta(hours=12)
    morning = generate_tickets(day1, half, seed=9)
    assert write_tickets(engine, morning, start=day1, end=half) == len(morning)
    in_morning = (first[TIME_COLUMN] < half).sum()
    assert _count(engine) == len(first) - in_morning + len(morning) + len(second)
    before = _count(engine)
    with pytest.raises(ValueError, match="outside"):
        write_tickets(engine, first, start=day1, end=half)
    assert _count(engine) == before
    assert "ix_support_tickets_opened_at" in {
        ix["name"] for ix in sa.inspect(engine).get_indexes(TABLE)
    }


def test_seed_source_reruns_and_cli(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'seed.db'}")
    end = START + timedelta(days=2, hours=6)
    kwargs = {"tickets_per_hour": 20, "scenario": "audience_shift", "drift_start": START}
    rows = seed_source(engine, START, end, table="tickets_x", **kwargs)
    assert rows == len(generate_tickets(START, end, **kwargs)) == _count(engine, "tickets_x")
    assert seed_source(engine, START, end, table="tickets_x", **kwargs) == rows
    assert _count(engine, "tickets_x") == rows

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--url", url, "--start", "2026-06-01", "--end", "2026-06-02"]
    args += ["--tickets-per-hour", "10", "--scenario", "product_launch"]
    args += ["--drift-start", "2026-06-01T12:00", "--seed", "5"]
    assert gen.main(args) == 0
    cli = pd.read_sql_table(TABLE, sa.create_engine(url))
    assert cli[ID_COLUMN].str.startswith("T5-").all()
    assert NEW_AREA in set(cli["product_area"])
    assert NEW_AREA not in set(cli.loc[cli[TIME_COLUMN] < datetime(2026, 6, 1, 12), "product_area"])


def test_tickets_table_types() -> None:
    table = tickets_table(sa.MetaData(), "t")
    assert table.c[ID_COLUMN].primary_key
    assert isinstance(table.c["message_length"].type, sa.Float)
    assert isinstance(table.c["product_area"].type, sa.String)
    assert isinstance(table.c[LABEL_COLUMN].type, sa.Integer) and table.c[LABEL_COLUMN].nullable
    assert isinstance(table.c[TIME_COLUMN].type, sa.DateTime)
    assert [c.name for c in table.columns] == list(COLUMNS)


# --- model -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(baseline: pd.DataFrame) -> tuple:
    train = baseline[baseline[TIME_COLUMN] < datetime(2026, 6, 20)]
    holdout = baseline[baseline[TIME_COLUMN] >= datetime(2026, 6, 22)]
    return train_model(train, FEATURES), train, holdout


def test_model_is_logistic_and_beats_chance_on_later_holdout(trained) -> None:
    model, train, holdout = trained
    assert isinstance(model.named_steps["classifier"], LogisticRegression)
    proba = model.predict_proba(holdout[INPUTS])[:, 1]
    y = holdout[LABEL_COLUMN]
    assert roc_auc_score(y, proba) > 0.70
    base = np.full(len(y), train[LABEL_COLUMN].mean())
    assert log_loss(y, proba) < log_loss(y, base) - 0.03
    assert ((proba >= 0.5) == y).mean() >= max(y.mean(), 1 - y.mean())


def test_training_is_deterministic(trained) -> None:
    model, train, holdout = trained
    again = train_model(train, FEATURES)
    np.testing.assert_array_equal(
        again.predict_proba(holdout[INPUTS]), model.predict_proba(holdout[INPUTS])
    )


def test_model_handles_none_nan_and_unseen_categories(trained) -> None:
    model, _, holdout = trained
    x = holdout[INPUTS].head(300)
    assert x["first_response_minutes"].isna().any()
    as_object = x.astype(object).where(x.notna(), None)
    np.testing.assert_allclose(model.predict_proba(as_object), model.predict_proba(x))
    odd = x.assign(product_area=NEW_AREA, first_response_minutes=np.nan, priority=None)
    assert np.isfinite(model.predict_proba(odd)).all()


def test_save_and_load_round_trip(trained, tmp_path) -> None:
    model, _, holdout = trained
    path = tmp_path / "deep" / "dir" / "model.joblib"
    digest = save_model(model, path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    x = holdout[INPUTS].head(100)
    np.testing.assert_array_equal(load_model(path).predict_proba(x), model.predict_proba(x))


def test_train_model_rejects_bad_input(baseline: pd.DataFrame) -> None:
    small = baseline.head(500)
    with pytest.raises(ValueError, match="empty"):
        train_model(small.iloc[0:0], FEATURES)
    with pytest.raises(ValueError, match="'resolved'"):
        train_model(small, FEATURES, target="resolved")
    with pytest.raises(ValueError, match="single class"):
        train_model(small.assign(escalated=0), FEATURES)
    with pytest.raises(ValueError, match=r"\['seats'\]"):
        train_model(small, {**FEATURES, "seats": "numeric"})
    with pytest.raises(ValueError, match="unknown feature kind"):
        build_pipeline({"priority": "ordinal"})
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        train_model(small, FEATURES, sample_weight=[1.0, 2.0, 3.0])


def test_sample_weight_changes_the_fit(baseline: pd.DataFrame) -> None:
    small = baseline.head(4000)
    weights = np.where(small[LABEL_COLUMN] == 1, 3.0, 1.0)
    plain = train_model(small, FEATURES).predict_proba(small[INPUTS])[:, 1]
    weighted = train_model(small, FEATURES, sample_weight=weights).predict_proba(small[INPUTS])
    assert weighted[:, 1].mean() > plain.mean() + 0.05  # up-weighted escalations score higher


# --- the config ------------------------------------------------------------------------------


def test_config_matches_the_schema(config: ModelguardConfig) -> None:
    from modelguard.pipelines.retraining import resolve_estimator

    assert config.model.name == "support_escalation"
    assert resolve_estimator(config.model.estimator) is train_model
    src = config.source
    assert (src.table, src.time_column) == (TABLE, TIME_COLUMN)
    assert (src.label_column, src.label_time_column) == (LABEL_COLUMN, LABEL_TIME_COLUMN)
    assert src.label_delay_hours == LABEL_DELAY_HOURS
    assert config.features == FEATURES
    assert config.monitoring.monitoring_interval == 7200
    assert config.monitoring.schedule_cron == "0 */2 * * *"
    email = load_config(ROOT / "config" / "main_config.yaml")
    assert src.conn_id == email.source.conn_id and src.table != email.source.table
    assert config.storage == email.storage  # one registry and results store, keyed by model


# --- end to end with modelguard's pipeline functions, no Airflow -----------------------------


def _write_config(root: Path, **section_overrides: dict) -> Path:
    raw = yaml.safe_load(CONFIG_FILE.read_text())
    raw["storage"]["artifact_root"] = str(root / "artifacts")
    raw["storage"]["report_root"] = str(root / "reports")
    for section, values in section_overrides.items():
        raw[section].update(values)
    path = root / "support_escalation.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _bootstrap(config, source, registry_engine, start: datetime, end: datetime):
    """The first champion through the generic bootstrap (the config's own estimator): tickets
    of [start, end) whose outcome matured, the newest holdout_share held out for its baseline
    metrics, scored at the config's decision threshold."""
    from modelguard.pipelines.bootstrap import run_bootstrap

    as_of = end + timedelta(hours=config.source.label_delay_hours)
    return run_bootstrap(
        config, source, registry_engine, start, end, as_of=as_of, run_id="test-bootstrap"
    ).version


# Two models side by side: the email sends and the support tickets in one source database, one
# registry and results store; a product launch reaches the desk on LAUNCH (a Thursday).
TWO_SEED_END = datetime(2026, 6, 13)
LAUNCH = datetime(2026, 6, 11)
CHAMPION = (datetime(2026, 6, 1), datetime(2026, 6, 8))  # the first week, before the launch
QUIET = Window(datetime(2026, 6, 9), datetime(2026, 6, 10))  # a Tuesday, after training
LAUNCHED = Window(datetime(2026, 6, 12), datetime(2026, 6, 13))  # the day after the launch
EMAIL_QUIET = Window(datetime(2026, 6, 8), datetime(2026, 6, 9))


@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> dict:
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source as seed_sends
    from modelguard.storage.source import engine_for_url

    root = tmp_path_factory.mktemp("two_models")
    tickets = load_config(_write_config(root))
    email = load_config(write_email_config(root))
    source = engine_for_url(f"sqlite:///{root / 'source.db'}")
    registry = engine_for_url(f"sqlite:///{root / 'registry.db'}")
    seed_source(
        source,
        START,
        TWO_SEED_END,
        seed=11,
        tickets_per_hour=PER_HOUR,
        scenario="product_launch",
        drift_start=LAUNCH,
    )
    seed_sends(source, START, EMAIL_QUIET.end, seed=12, sends_per_hour=20)
    email_end = CHAMPION[1]
    train_and_register(
        email, source, registry, CHAMPION[0], email_end, as_of=email_end + timedelta(hours=72)
    )
    champion = _bootstrap(tickets, source, registry, *CHAMPION)
    return {
        "root": root,
        "config": tickets,
        "email": email,
        "source": source,
        "registry": registry,
        "champion": champion,
    }


def _drift_check(world: dict, config: ModelguardConfig, window: Window, run_id: str):
    from modelguard.factory.ids import ModelDagIds
    from modelguard.pipelines.drift_check import run_drift_check

    return run_drift_check(
        config=config,
        thresholds=config.drift_detection,
        source_engine=world["source"],
        registry_engine=world["registry"],
        window=window,
        dag_id=ModelDagIds(config.model.name).monitoring,
        run_id=run_id,
    )


def test_two_models_share_one_source_and_one_registry(two_models: dict) -> None:
    from modelguard.config import model_config_files
    from modelguard.storage.registry import ModelRegistry

    root, tickets, email = two_models["root"], two_models["config"], two_models["email"]
    names = [load_config(p).model.name for p in model_config_files(root)]
    assert sorted(names) == ["email_engagement", "support_escalation"]
    tables = set(sa.inspect(two_models["source"]).get_table_names())
    assert {TABLE, email.source.table} <= tables
    registry = ModelRegistry(two_models["registry"], tickets.storage.artifact_root)
    mine, theirs = (
        registry.get_champion(tickets.model.name),
        registry.get_champion("email_engagement"),
    )
    assert mine.id == two_models["champion"].id != theirs.id
    assert mine.feature_schema == FEATURES and theirs.feature_schema == email.features
    assert Path(mine.artifact_uri).parent == root / "artifacts" / "support_escalation"
    assert isinstance(registry.load_model(mine).named_steps["classifier"], LogisticRegression)
    assert mine.metrics["roc_auc"] > 0.7 and 0.15 < mine.metrics["engagement_rate"] < 0.3


def test_drift_check_of_a_quiet_window_is_not_major(two_models: dict) -> None:
    result = _drift_check(two_models, two_models["config"], QUIET, "quiet")
    assert result.verdict in ("healthy", "minor"), result.summary
    assert not result.major_features and not result.dataset_drift
    assert result.model_name == "support_escalation"
    assert result.model_version_id == two_models["champion"].id
    assert result.n_rows >= two_models["config"].drift_detection.min_rows
    # the email model, judged in the same registry and store, is untouched by the tickets
    email = _drift_check(two_models, two_models["email"], EMAIL_QUIET, "quiet")
    assert email.model_name == "email_engagement" and email.verdict in ("healthy", "minor")


def test_drift_check_of_the_product_launch_is_major(two_models: dict) -> None:
    from modelguard.pipelines.retrain_decision import load_report
    from modelguard.storage.results import ResultStore

    config = two_models["config"]
    result = _drift_check(two_models, config, LAUNCHED, "launched")
    assert result.verdict == "major" and result.dataset_drift, result.summary
    assert {"product_area", "message_length"} <= set(result.major_features)
    assert set(result.drifted_features) <= {"product_area", "message_length"}
    report = load_report(result.report_uri)
    assert report["verdict"] == "major" and report["model_name"] == "support_escalation"
    stored = ResultStore(two_models["registry"]).get_drift_run(
        "support_escalation_monitoring", LAUNCHED.start, LAUNCHED.end
    )
    assert stored is not None and stored.verdict == "major"
    assert stored.model_name == "support_escalation"


# A new audience (the launch and a changed escalation function) from AUDIENCE on: monitoring sees
# drift and degradation, retraining builds a better model, the gate deploys it. RUN is a Friday.
AUDIENCE = datetime(2026, 6, 8)
RUN = datetime(2026, 7, 10)


def test_audience_shift_retrains_and_the_gate_deploys(tmp_path) -> None:
    from modelguard.pipelines import deployment, label_checks, retraining
    from modelguard.pipelines.retrain_decision import decide_retraining
    from modelguard.storage.registry import ModelRegistry
    from modelguard.storage.source import engine_for_url, matured_window

    config = load_config(_write_config(tmp_path))
    source = engine_for_url(f"sqlite:///{tmp_path / 'source.db'}")
    registry = engine_for_url(f"sqlite:///{tmp_path / 'registry.db'}")
    seed_source(
        source,
        START,
        RUN,
        seed=21,
        tickets_per_hour=PER_HOUR,
        scenario="audience_shift",
        drift_start=AUDIENCE,
    )
    champion = _bootstrap(config, source, registry, START, AUDIENCE)
    dag_id, run_id = "support_escalation_monitoring", "scheduled__2026-07-10"
    interval = Window(RUN - timedelta(hours=config.monitoring.window_hours), RUN)
    labelled = matured_window(
        Window(RUN - timedelta(hours=config.monitoring.label_window_hours), RUN),
        config.source.label_delay_hours,
    )
    checks = {"config": config, "source_engine": source, "registry_engine": registry}
    checks |= {"dag_id": dag_id, "run_id": run_id}
    drift = _drift_check({"source": source, "registry": registry}, config, interval, run_id)
    performance = label_checks.run_performance_check(**checks, window=labelled, as_of=RUN)
    concept = label_checks.run_concept_check(**checks, window=labelled, as_of=RUN)
    assert drift.verdict == "major"
    assert performance.status == "degraded", performance.reason
    assert concept.concept_drift, concept.reason
    decision = decide_retraining(
        **checks, drift=drift, performance=performance, concept=concept, window=interval
    )
    assert decision["verdict"] == "retrain", decision["reason"]

    steps = {"config": config, "run_id": "retrain__test"}
    built = retraining.build_training_set_step(
        **steps,
        source_engine=source,
        as_of=RUN,
        strategy=config.retraining.default_strategy,
        window_months=None,
    )
    trained = retraining.train_and_validate_step(**steps, registry_engine=registry, built=built)
    registered = retraining.register_step(
        **steps, registry_engine=registry, built=built, trained=trained, reason=decision["reason"]
    )
    gate = {"config": config, "registry_engine": registry, "run_id": "gate__test"}
    verdict = deployment.evaluate_challenger(**gate, source_engine=source, as_of=RUN)
    assert verdict.challenger_id == registered["challenger_id"]
    assert verdict.decision == "deploy", verdict.reasons
    assert verdict.improvement >= config.deployment.min_improvement
    deployment.deploy_challenger(**gate, verdict=verdict)
    check = deployment.check_deployment(**gate, source_engine=source, verdict=verdict, as_of=RUN)
    assert check["status"] == "passed", check
    now = ModelRegistry(registry).get_champion("support_escalation")
    assert now.id == registered["challenger_id"] != champion.id
