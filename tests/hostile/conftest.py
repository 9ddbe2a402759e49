"""The hostile-input suite: every case ends in a correct value or a modelguard error that names
the input and what is allowed, never a silently wrong result or a raw Python error.

Hypothesis runs derandomized (the same examples on every machine, so CI never sees a new
failure that a developer cannot replay) and without a per-example deadline (the machines are
shared and noisy; a slow example is not a wrong one).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "modelguard",
    derandomize=True,
    deadline=None,
    max_examples=60,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("modelguard")
