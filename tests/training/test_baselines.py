"""Baselines: logistic regression and the hand-written points model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.training import synthetic_leads as synthetic
from training.baselines import POINTS_RULES, fit_logistic, points_model
from training.evaluate import evaluate, oracle_auc


@pytest.fixture(scope="module")
def cohorts():
    return synthetic.split(synthetic.leads(2000, seed=1))


def _lead(**values) -> pd.DataFrame:
    row = {s.name: (0.0 if s.kind == "numeric" else "unknown") for s in synthetic.specs()}
    row["days_since_last_activity"] = 2.0
    row.update(values)
    return pd.DataFrame([row])


def test_logistic_baseline_ranks_and_calibrates(cohorts):
    train, _, valid = cohorts
    model = fit_logistic(train, synthetic.specs(), seed=0)
    assert model.name == "logistic"
    p = model.predict_proba(valid)
    assert p.shape == (len(valid),) and ((p > 0) & (p < 1)).all()
    m = evaluate(p, valid["label"], threshold=0.5)
    assert m["roc_auc"] > oracle_auc(valid["true_p"], valid["label"]) - 0.06
    assert abs(p.mean() - valid["label"].mean()) < 0.05


def test_logistic_baseline_takes_unseen_and_missing_values(cohorts):
    train, _, valid = cohorts
    model = fit_logistic(train, synthetic.specs(), seed=0)
    odd = valid.head(5).copy()
    odd["seniority"] = "astronaut"
    odd["industry"] = None
    odd["n_pricing_view_7d"] = np.nan
    assert np.isfinite(model.predict_proba(odd)).all()


def test_points_rules_add_up():
    model = points_model(synthetic.specs())
    assert model.points(_lead()) == pytest.approx([0.0])
    assert model.points(_lead(n_demo_request_30d=2.0)) == pytest.approx([20.0])
    assert model.points(_lead(n_pricing_view_7d=5.0)) == pytest.approx([30.0])  # capped at 3
    assert model.points(_lead(seniority="vp", free_email=1.0)) == pytest.approx([-5.0])
    assert model.points(_lead(seniority="student")) == pytest.approx([-30.0])
    assert model.points(_lead(company_size_band="201-1000", icp_match=1.0)) == pytest.approx([20])
    assert model.points(_lead(days_since_last_activity=np.nan)) == pytest.approx([-10.0])


def test_points_model_is_calibrated_on_training_leads(cohorts):
    train, _, valid = cohorts
    model = points_model(synthetic.specs())
    with pytest.raises(ValueError, match="not fitted"):
        model.predict_proba(valid)
    model = points_model(synthetic.specs(), train)
    assert model.name == "points"
    p = model.predict_proba(valid)
    # calibration keeps the hand-written order: more points, higher probability
    order = np.argsort(model.points(valid))
    assert np.all(np.diff(p[order]) >= -1e-12)
    assert abs(p.mean() - valid["label"].mean()) < 0.05
    assert evaluate(p, valid["label"], threshold=0.5)["roc_auc"] > 0.65


def test_points_rules_without_their_feature_are_skipped():
    specs = [s for s in synthetic.specs() if s.name != "n_demo_request_30d"]
    model = points_model(specs)
    assert len(model.active_rules) == len(POINTS_RULES) - 1
    assert model.points(_lead(n_demo_request_30d=2.0)) == pytest.approx([0.0])
