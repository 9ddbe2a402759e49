"""Column layout of the ``support_tickets`` table: one row per ticket opened at a B2B SaaS
support desk.

Times are naive UTC. ``escalated`` is the outcome (1 = the ticket was handed to engineering or a
manager), known at ``resolved_at``: when the escalation happened, or ``opened_at`` + the label
delay for a ticket that was not escalated (only then is "no" final). ``model_score`` is what the
production model predicted at triage.
"""

from __future__ import annotations

import sqlalchemy as sa

TABLE = "support_tickets"
ID_COLUMN = "ticket_id"
TIME_COLUMN = "opened_at"
LABEL_COLUMN = "escalated"
LABEL_TIME_COLUMN = "resolved_at"
SCORE_COLUMN = "model_score"

#: Hours after opening at which "not escalated" becomes final (an escalation is known earlier).
LABEL_DELAY_HOURS = 48

#: Model input column -> "numeric" or "categorical".
FEATURES: dict[str, str] = {
    # the ticket
    "priority": "categorical",
    "channel": "categorical",
    "product_area": "categorical",
    "message_length": "numeric",  # words
    "attachments": "numeric",
    # the customer
    "customer_tier": "categorical",
    "prior_tickets_90d": "numeric",
    "account_age_days": "numeric",
    # the desk; NaN when no agent had answered yet when the ticket was scored
    "first_response_minutes": "numeric",
}

NUMERIC_FEATURES: tuple[str, ...] = tuple(k for k, v in FEATURES.items() if v == "numeric")
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(k for k, v in FEATURES.items() if v == "categorical")

#: Categories of each categorical feature in the undrifted world, in a fixed order.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "priority": ("low", "normal", "high", "urgent"),
    "channel": ("email", "chat", "phone", "portal"),
    "product_area": ("billing", "integrations", "reporting", "auth", "mobile"),
    "customer_tier": ("free", "pro", "enterprise"),
}

#: Every column of the table, in order.
COLUMNS: tuple[str, ...] = (
    ID_COLUMN,
    TIME_COLUMN,
    *FEATURES,
    SCORE_COLUMN,
    LABEL_COLUMN,
    LABEL_TIME_COLUMN,
)


def tickets_table(metadata: sa.MetaData, name: str = TABLE) -> sa.Table:
    """Declare the tickets table on ``metadata`` (does not create it)."""
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
