"""The drift reports the tests of modelguard.drift.report render: every kind of feature, a
name that is an HTML injection, one without any PSI."""

from __future__ import annotations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL_NAME = "<script>alert('x')</script>"

THRESHOLDS = {
    "psi_warning": 0.1,
    "psi_critical": 0.25,
    "ks_significance": 0.05,
    "min_ks_statistic": 0.1,
    "min_cramers_v": 0.1,
    "dataset_drift_share": 0.3,
}


def _numeric(psi, ks, p, p_adj, severity, drifted, reason, *, ref_missing=0.0, cur_missing=0.0):
    labels = ["(-inf, 3.2]", "(3.2, 7.5]", "(7.5, 12.0]", "(12.0, 20.0]", "(20.0, inf)", "missing"]
    reference = [0.2, 0.2, 0.2, 0.2, 0.2 - ref_missing, ref_missing]
    current = [0.1, 0.15, 0.25, 0.3, 0.2 - cur_missing, cur_missing]
    return {
        "type": "numeric",
        "tests": ["psi", "ks"],
        "psi": psi,
        "ks_statistic": ks,
        "ks_pvalue": p,
        "chi2_statistic": None,
        "chi2_pvalue": None,
        "pvalue_adjusted": p_adj,
        "effect_size": ks,
        "effect_measure": "ks_statistic",
        "severity": severity,
        "drifted": drifted,
        "reason": reason,
        "missing_share_reference": ref_missing,
        "missing_share_current": cur_missing,
        "new_categories": {},
        "n_reference": 5000,
        "n_current": 1200,
        "bins": {"labels": labels, "reference": reference, "current": current},
    }


def _categorical(
    labels, reference, current, psi, chi2, p, p_adj, v, severity, drifted, reason, new
):
    return {
        "type": "categorical",
        "tests": ["psi", "chi2"],
        "psi": psi,
        "ks_statistic": None,
        "ks_pvalue": None,
        "chi2_statistic": chi2,
        "chi2_pvalue": p,
        "pvalue_adjusted": p_adj,
        "effect_size": v,
        "effect_measure": "cramers_v",
        "severity": severity,
        "drifted": drifted,
        "reason": reason,
        "missing_share_reference": 0.0,
        "missing_share_current": 0.0,
        "new_categories": new,
        "n_reference": 5000,
        "n_current": 1200,
        "bins": {"labels": labels, "reference": reference, "current": current},
    }


def make_report(extra_features: int = 0) -> dict:
    features = {
        "company_size": _numeric(
            0.412, 0.31, 1.2e-40, 5.0e-39, "major", True, "PSI 0.412 >= 0.25 and KS p < 0.05"
        ),
        "tenure_days": _numeric(0.02, 0.03, 0.61, 0.9, "none", False, "no drift"),
        "monthly_spend": _numeric(
            0.13,
            0.12,
            2.0e-4,
            1.0e-3,
            "minor",
            True,
            "PSI 0.130 >= 0.1 and KS p < 0.05",
            ref_missing=0.01,
            cur_missing=0.09,
        ),
        "plan": _categorical(
            ["basic", "pro", "enterprise", "crypto", "missing"],
            [0.5, 0.3, 0.2, 0.0, 0.0],
            [0.4, 0.28, 0.2, 0.12, 0.0],
            0.28,
            310.5,
            3.3e-12,
            4.0e-11,
            0.21,
            "major",
            True,
            "PSI 0.280 >= 0.25; new categories: crypto",
            {"crypto": 0.12},
        ),
        "region": _categorical(
            ["emea", "amer", "apac", "missing"],
            [0.4, 0.4, 0.2, 0.0],
            [0.42, 0.38, 0.2, 0.0],
            0.001,
            1.1,
            0.58,
            0.9,
            0.02,
            "none",
            False,
            "no drift",
            {},
        ),
        EVIL_NAME: _numeric(0.11, 0.05, 0.2, 0.6, "minor", False, "PSI >= 0.1 but KS p >= 0.05"),
        "weird/name with spaces": _numeric(None, None, None, None, "none", False, "all missing"),
    }
    for i in range(extra_features):
        features[f"extra_{i:02d}"] = _numeric(0.01 * i, 0.01, 0.5, 0.9, "none", False, "no drift")
    return {
        "model_name": "churn",
        "model_version": 3,
        "window": {"start": "2026-09-01T00:00:00", "end": "2026-09-02T00:00:00"},
        "verdict": "major",
        "dataset_drift": True,
        "n_reference": 5000,
        "n_current": 1200,
        "thresholds": dict(THRESHOLDS),
        "drifted_features": ["company_size", "plan", "monthly_spend"],
        "features": features,
    }
