"""Synthetic cold-email data: generator determinism, drift scenarios, idempotent writes, model."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.metrics import log_loss, roc_auc_score

from email_engagement import generator as gen
from email_engagement.generator import SCENARIOS, generate_sends, seed_source, write_sends
from email_engagement.model import build_pipeline, load_model, save_model, train_model
from email_engagement.schema import (
    COLUMNS,
    FEATURES,
    ID_COLUMN,
    LABEL_COLUMN,
    LABEL_DELAY_HOURS,
    LABEL_TIME_COLUMN,
    SCORE_COLUMN,
    TABLE,
    TIME_COLUMN,
    sends_table,
)

START = datetime(2026, 6, 1)
DRIFT = datetime(2026, 6, 4, 12, 30)
END = datetime(2026, 6, 8)
INPUTS = list(FEATURES)


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return generate_sends(START, END, scenario="none")


def _drifted(scenario: str, **kwargs) -> pd.DataFrame:
    return generate_sends(START, END, scenario=scenario, drift_start=DRIFT, **kwargs)


def _after(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame[TIME_COLUMN] >= DRIFT]


def _before(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame[TIME_COLUMN] < DRIFT]


# --- shape and determinism -------------------------------------------------------------------


def test_schema_and_realistic_values(baseline: pd.DataFrame) -> None:
    df = baseline
    assert tuple(df.columns) == COLUMNS
    assert df[ID_COLUMN].is_unique
    assert df[TIME_COLUMN].is_monotonic_increasing
    assert df[TIME_COLUMN].min() >= START and df[TIME_COLUMN].max() < END
    assert df[TIME_COLUMN].dt.tz is None
    hours = (END - START) / timedelta(hours=1)
    assert 0.85 * 100 < len(df) / hours < 1.15 * 100
    for col, kind in FEATURES.items():
        if kind == "numeric":
            assert pd.api.types.is_float_dtype(df[col]), col
        else:
            assert pd.api.types.is_string_dtype(df[col]), col
    assert set(df["title_seniority"].dropna()) == {
        "c_level",
        "vp",
        "director",
        "manager",
        "individual_contributor",
    }
    assert df["industry"].dropna().nunique() == 8
    assert set(df["send_weekday"]) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    assert df["subject_length"].between(15, 90).all()
    assert df["personalization_score"].between(0, 1).all()
    assert df["send_hour"].between(0, 23).all()
    assert df["send_hour"].between(8, 17).mean() > 0.7
    assert set(df["followup_step"]) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    size = df["company_size"].dropna()
    assert (size == size.round()).all() and size.min() >= 1 and size.median() < size.mean()
    assert (df["past_opens"] == 0).mean() > 0.4
    assert (df["past_replies"] == 0).mean() > 0.8
    assert 0.15 < (df["days_since_last_touch"] == -1).mean() < 0.6
    assert df[SCORE_COLUMN].gt(0).all() and df[SCORE_COLUMN].lt(1).all()
    assert set(df[LABEL_COLUMN]) == {0, 1}
    assert 0.25 <= df[LABEL_COLUMN].mean() <= 0.40
    delay = (df[LABEL_TIME_COLUMN] - df[TIME_COLUMN]) / timedelta(hours=1)
    assert delay.min() >= 0 and delay.max() <= LABEL_DELAY_HOURS
    engaged = df[LABEL_COLUMN] == 1
    assert (delay[~engaged] == LABEL_DELAY_HOURS).all()  # "no" is final only at the horizon
    assert delay[engaged].mean() == pytest.approx(LABEL_DELAY_HOURS / 2, rel=0.1)
    assert roc_auc_score(df[LABEL_COLUMN], df[SCORE_COLUMN]) > 0.62


def test_same_seed_same_data_other_seed_other_data(baseline: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(generate_sends(START, END, scenario="none"), baseline)
    other = generate_sends(START, START + timedelta(hours=5), seed=8)
    assert not other[ID_COLUMN].isin(baseline[ID_COLUMN]).any()
    mine = baseline[baseline[TIME_COLUMN] < START + timedelta(hours=5)]
    assert len(other) != len(mine) or not np.array_equal(
        other["company_size"].to_numpy(), mine["company_size"].to_numpy()
    )


@pytest.mark.parametrize("scenario", ["none", "covariate_shift", "concept_drift"])
def test_range_split_equals_whole_range(scenario: str) -> None:
    a, b, c = datetime(2026, 6, 1, 3), datetime(2026, 6, 2, 10, 17, 30), datetime(2026, 6, 3)
    kwargs = {"scenario": scenario, "drift_start": datetime(2026, 6, 2, 10, 17), "seed": 3}
    whole = generate_sends(a, c, **kwargs)
    parts = pd.concat([generate_sends(a, b, **kwargs), generate_sends(b, c, **kwargs)])
    pd.testing.assert_frame_equal(parts.reset_index(drop=True), whole)


def test_tz_aware_bounds_are_converted_to_naive_utc() -> None:
    naive = generate_sends(datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 14))
    aware = generate_sends(
        datetime(2026, 6, 1, 12, tzinfo=UTC) + timedelta(hours=-2),
        pd.Timestamp("2026-06-01 16:00", tz="Europe/Berlin"),
    )
    pd.testing.assert_frame_equal(aware, naive)


def test_empty_range_has_the_full_schema() -> None:
    empty = generate_sends(START, START)
    assert tuple(empty.columns) == COLUMNS and len(empty) == 0


# --- scenarios -------------------------------------------------------------------------------


def test_rows_before_drift_start_match_the_undrifted_world(baseline: pd.DataFrame) -> None:
    for scenario in SCENARIOS[1:]:
        pd.testing.assert_frame_equal(_before(_drifted(scenario)), _before(baseline))


def test_covariate_shift_moves_named_feature_means(baseline: pd.DataFrame) -> None:
    drifted = _after(_drifted("covariate_shift"))
    reference = _after(baseline)
    for col in ("company_size", "subject_length", "past_opens"):
        ref, new = reference[col].mean(), drifted[col].mean()
        assert new > ref + 0.5 * reference[col].std(), col
    for col in ("personalization_score", "send_hour", "region"):
        pd.testing.assert_series_equal(drifted[col], reference[col])
    # categorical reweighting when asked for
    shifted = _after(_drifted("covariate_shift", drift_features=("template",)))
    ref_share = reference["template"].value_counts(normalize=True)
    new_share = shifted["template"].value_counts(normalize=True)
    assert (new_share - ref_share).abs().max() > 0.1


def test_new_categories_only_after_drift_start(baseline: pd.DataFrame) -> None:
    drifted = _drifted("new_categories")
    unseen_industry = (
        ~drifted["industry"].isin(baseline["industry"].dropna()) & drifted["industry"].notna()
    )
    unseen_template = ~drifted["template"].isin(baseline["template"])
    assert not (unseen_industry | unseen_template)[drifted[TIME_COLUMN] < DRIFT].any()
    after = drifted[TIME_COLUMN] >= DRIFT
    assert set(drifted.loc[unseen_industry, "industry"]) == {"crypto", "web3"}
    assert set(drifted.loc[unseen_template, "template"]) == {"t_ai_generated"}
    assert unseen_industry[after].mean() > 0.2 and unseen_template[after].mean() > 0.2


def test_missing_surge_raises_missing_share(baseline: pd.DataFrame) -> None:
    drifted = _after(_drifted("missing_surge", drift_features=("company_size", "region")))
    reference = _after(baseline)
    for col in ("company_size", "region"):
        assert reference[col].isna().mean() < 0.05
        assert 0.25 < drifted[col].isna().mean() < 0.35
    assert drifted["industry"].isna().mean() < 0.05
    pd.testing.assert_series_equal(drifted[LABEL_COLUMN], reference[LABEL_COLUMN])


def _rate_gap_by_personalization(frame: pd.DataFrame) -> float:
    quartile = pd.qcut(frame["personalization_score"], 4, labels=False)
    rates = frame.groupby(quartile)[LABEL_COLUMN].mean()
    return float(rates.iloc[-1] - rates.iloc[0])


def test_concept_drift_keeps_inputs_changes_relation(baseline: pd.DataFrame) -> None:
    drifted = _after(_drifted("concept_drift"))
    reference = _after(baseline)
    pd.testing.assert_frame_equal(drifted[INPUTS], reference[INPUTS])
    assert abs(drifted[LABEL_COLUMN].mean() - reference[LABEL_COLUMN].mean()) < 0.02
    assert _rate_gap_by_personalization(reference) > 0.08
    assert abs(_rate_gap_by_personalization(drifted)) < 0.04
    # the production score no longer ranks well
    assert roc_auc_score(drifted[LABEL_COLUMN], drifted[SCORE_COLUMN]) < 0.6


def test_label_shift_changes_engagement_rate_only(baseline: pd.DataFrame) -> None:
    drifted = _after(_drifted("label_shift"))
    reference = _after(baseline)
    pd.testing.assert_frame_equal(drifted[INPUTS], reference[INPUTS])
    pd.testing.assert_series_equal(drifted[SCORE_COLUMN], reference[SCORE_COLUMN])
    assert drifted[LABEL_COLUMN].mean() < 0.65 * reference[LABEL_COLUMN].mean()


def test_magnitude_zero_is_no_drift(baseline: pd.DataFrame) -> None:
    for scenario in SCENARIOS:
        pd.testing.assert_frame_equal(_drifted(scenario, magnitude=0.0), baseline)


@pytest.mark.parametrize(
    ("kwargs", "bad", "listed"),
    [
        ({"scenario": "meteor_strike"}, "meteor_strike", "covariate_shift"),
        (
            {"scenario": "covariate_shift", "drift_features": ("shoe_size",)},
            "shoe_size",
            "industry",
        ),
        (
            {"scenario": "new_categories", "drift_features": ("company_size",)},
            "company_size",
            "template",
        ),
        ({"magnitude": -1.0}, "-1.0", ">= 0"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict, bad: str, listed: str) -> None:
    with pytest.raises(ValueError) as err:
        generate_sends(START, START + timedelta(hours=1), **kwargs)
    assert bad in str(err.value) and listed in str(err.value)


# --- database --------------------------------------------------------------------------------


def _count(engine: sa.Engine, table: str = TABLE) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def test_write_sends_is_idempotent(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'sends.db'}")
    day1, day2, day3 = START, START + timedelta(days=1), START + timedelta(days=2)
    first = generate_sends(day1, day2)
    second = generate_sends(day2, day3, scenario="missing_surge")
    assert write_sends(engine, first, start=day1, end=day2) == len(first)
    assert write_sends(engine, second, start=day2, end=day3) == len(second)
    assert _count(engine) == len(first) + len(second)
    write_sends(engine, first, start=day1, end=day2)
    write_sends(engine, second, start=day2, end=day3)
    assert _count(engine) == len(first) + len(second)

    back = pd.read_sql_table(TABLE, engine).sort_values(TIME_COLUMN, kind="stable")
    back = back.reset_index(drop=True)
    expected = pd.concat([first, second], ignore_index=True)
    assert back[ID_COLUMN].tolist() == expected[ID_COLUMN].tolist()
    pd.testing.assert_series_equal(back[TIME_COLUMN], expected[TIME_COLUMN])
    assert back["company_size"].isna().sum() == expected["company_size"].isna().sum()
    assert back["industry"].isna().sum() == expected["industry"].isna().sum() > 0

    # A narrower range replaces only that range.
    half = day1 + timedelta(hours=12)
    morning = generate_sends(day1, half)
    assert write_sends(engine, morning, start=day1, end=half) == len(morning)
    assert _count(engine) == len(first) + len(second)
    with pytest.raises(ValueError, match="outside"):
        write_sends(engine, first, start=day1, end=half)
    assert _count(engine) == len(first) + len(second)
    assert "ix_email_sends_sent_at" in {ix["name"] for ix in sa.inspect(engine).get_indexes(TABLE)}


def test_seed_source_and_cli(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'seed.db'}")
    end = START + timedelta(days=2, hours=6)
    kwargs = {"sends_per_hour": 20, "scenario": "label_shift", "drift_start": START}
    rows = seed_source(engine, START, end, table="sends_x", **kwargs)
    assert rows == len(generate_sends(START, end, **kwargs)) == _count(engine, "sends_x")
    assert seed_source(engine, START, end, table="sends_x", **kwargs) == rows
    assert _count(engine, "sends_x") == rows

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--url", url, "--start", "2026-06-01", "--end", "2026-06-02", "--sends-per-hour", "10"]
    args += ["--scenario", "new_categories", "--drift-start", "2026-06-01T12:00", "--seed", "5"]
    assert gen.main(args) == 0
    cli = pd.read_sql_table(TABLE, sa.create_engine(url))
    assert cli[ID_COLUMN].str.startswith("5-").all()
    assert "t_ai_generated" in set(cli["template"])


def test_sends_table_types() -> None:
    table = sends_table(sa.MetaData(), "t")
    assert table.c[ID_COLUMN].primary_key
    assert isinstance(table.c["company_size"].type, sa.Float)
    assert isinstance(table.c["industry"].type, sa.String)
    assert isinstance(table.c[LABEL_COLUMN].type, sa.Integer) and table.c[LABEL_COLUMN].nullable
    assert isinstance(table.c[TIME_COLUMN].type, sa.DateTime)
    assert [c.name for c in table.columns] == list(COLUMNS)


# --- model -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained() -> tuple:
    train = generate_sends(datetime(2026, 5, 1), datetime(2026, 5, 22))
    holdout = generate_sends(datetime(2026, 5, 25), datetime(2026, 6, 1))
    return train_model(train, FEATURES), train, holdout


def test_model_beats_base_rate_on_later_holdout(trained) -> None:
    model, train, holdout = trained
    proba = model.predict_proba(holdout[INPUTS])[:, 1]
    y = holdout[LABEL_COLUMN]
    assert roc_auc_score(y, proba) > 0.65
    base = np.full(len(y), train[LABEL_COLUMN].mean())
    assert log_loss(y, proba) < log_loss(y, base) - 0.01
    accuracy = ((proba > 0.5) == y).mean()
    assert accuracy >= max(y.mean(), 1 - y.mean()) - 0.005


def test_model_handles_object_none_and_unseen_categories(trained) -> None:
    model, _, holdout = trained
    x = holdout[INPUTS].head(200)
    as_object = x.astype(object).where(x.notna(), None)
    np.testing.assert_allclose(model.predict_proba(as_object), model.predict_proba(x))
    odd = x.copy()
    odd["industry"] = "crypto"
    odd["company_size"] = np.nan
    assert np.isfinite(model.predict_proba(odd)).all()


def test_save_and_load_round_trip(trained, tmp_path) -> None:
    model, _, holdout = trained
    path = tmp_path / "deep" / "dir" / "model.joblib"
    digest = save_model(model, path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = load_model(path)
    x = holdout[INPUTS].head(100)
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_train_model_rejects_bad_input(baseline: pd.DataFrame) -> None:
    small = baseline.head(500)
    with pytest.raises(ValueError, match="empty"):
        train_model(small.iloc[0:0], FEATURES)
    with pytest.raises(ValueError, match="'clicked'"):
        train_model(small, FEATURES, target="clicked")
    with pytest.raises(ValueError, match="single class"):
        train_model(small.assign(engaged=0), FEATURES)
    with pytest.raises(ValueError, match="unknown feature kind"):
        build_pipeline({"industry": "text"})


def test_train_model_accepts_sample_weight(baseline: pd.DataFrame) -> None:
    small = baseline.head(3000)
    weights = np.where(small[LABEL_COLUMN] == 1, 2.0, 1.0)
    model = train_model(small, FEATURES, sample_weight=weights, random_state=1)
    assert model.predict_proba(small[INPUTS]).shape == (len(small), 2)


def test_audience_shift_is_covariate_shift_plus_concept_drift(baseline: pd.DataFrame) -> None:
    audience = _after(_drifted("audience_shift"))
    covariate = _after(_drifted("covariate_shift"))
    concept = _after(_drifted("concept_drift"))
    for col in FEATURES:
        pd.testing.assert_series_equal(audience[col], covariate[col])
    assert not audience[LABEL_COLUMN].equals(covariate[LABEL_COLUMN])

    # the outcome follows the drifted relation: personalization stops helping, as in concept drift
    def effect(df: pd.DataFrame) -> float:
        return df["personalization_score"].corr(df[LABEL_COLUMN].astype(float))

    assert effect(covariate) > 0.1
    assert abs(effect(audience)) < 0.05 and abs(effect(concept)) < 0.05
