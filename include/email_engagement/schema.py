"""Column layout of the ``email_sends`` table: one row per cold email sent to a B2B prospect.

Times are naive UTC. ``engaged`` is the outcome (1 = the prospect replied or clicked through),
known only at ``outcome_at`` (``sent_at`` + the label delay). ``model_score`` is what the
production model predicted at send time.
"""

from __future__ import annotations

import sqlalchemy as sa

TABLE = "email_sends"
ID_COLUMN = "send_id"
TIME_COLUMN = "sent_at"
LABEL_COLUMN = "engaged"
LABEL_TIME_COLUMN = "outcome_at"
SCORE_COLUMN = "model_score"

#: Minimum hours between a send and the moment its outcome is known.
LABEL_DELAY_HOURS = 72

#: Model input column -> "numeric" or "categorical".
FEATURES: dict[str, str] = {
    # prospect
    "title_seniority": "categorical",
    "industry": "categorical",
    "company_size": "numeric",
    "region": "categorical",
    # campaign
    "template": "categorical",
    "subject_length": "numeric",
    "personalization_score": "numeric",
    "send_hour": "numeric",
    "send_weekday": "categorical",
    "followup_step": "numeric",
    # history with the prospect
    "past_opens": "numeric",
    "past_replies": "numeric",
    "days_since_last_touch": "numeric",
}

NUMERIC_FEATURES: tuple[str, ...] = tuple(k for k, v in FEATURES.items() if v == "numeric")
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(k for k, v in FEATURES.items() if v == "categorical")

#: Categories of each categorical feature in the undrifted world, in a fixed order.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "title_seniority": ("c_level", "vp", "director", "manager", "individual_contributor"),
    "industry": (
        "saas",
        "fintech",
        "healthcare",
        "manufacturing",
        "retail",
        "logistics",
        "education",
        "agency",
    ),
    "region": ("north_america", "emea", "apac", "latam"),
    "template": ("t_intro", "t_case_study", "t_question", "t_breakup", "t_value_prop"),
    "send_weekday": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
}

#: ``days_since_last_touch`` value meaning "never touched before".
NEVER_TOUCHED = -1.0

#: Every column of the table, in order.
COLUMNS: tuple[str, ...] = (
    ID_COLUMN,
    TIME_COLUMN,
    *FEATURES,
    SCORE_COLUMN,
    LABEL_COLUMN,
    LABEL_TIME_COLUMN,
)


def sends_table(metadata: sa.MetaData, name: str = TABLE) -> sa.Table:
    """Declare the sends table on ``metadata`` (does not create it)."""
    feature_columns = [
        sa.Column(col, sa.Float if kind == "numeric" else sa.String(64), nullable=True)
        for col, kind in FEATURES.items()
    ]
    return sa.Table(
        name,
        metadata,
        sa.Column(ID_COLUMN, sa.String(64), primary_key=True),
        sa.Column(TIME_COLUMN, sa.DateTime, nullable=False),
        *feature_columns,
        sa.Column(SCORE_COLUMN, sa.Float, nullable=True),
        sa.Column(LABEL_COLUMN, sa.Integer, nullable=True),
        sa.Column(LABEL_TIME_COLUMN, sa.DateTime, nullable=True),
        sa.Index(f"ix_{name}_{TIME_COLUMN}", TIME_COLUMN),
    )
