"""The hostile-input suite: every case ends in a correct value or a modelguard error that names
the input and what is allowed, never a silently wrong result or a raw Python error.

Hypothesis runs derandomized (the same examples on every machine, so CI never sees a new
failure that a developer cannot replay) and without a per-example deadline (the machines are
shared and noisy; a slow example is not a wrong one). ``MODELGUARD_HYPOTHESIS_PROFILE=explore``
runs fresh random examples, many more of them, to look for cases the fixed ones miss (a case
found that way is then pinned with ``@example``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "modelguard",
    derandomize=True,
    deadline=None,
    max_examples=60,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "explore",
    deadline=None,
    max_examples=2000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("MODELGUARD_HYPOTHESIS_PROFILE", "modelguard"))
