"""The model tournament: time-ordered folds, the entrants, the winner, exact reasons per family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.errors import LeadscoreError
from scoring.bundle import ScoringBundle, score_frame
from tests.training import synthetic_leads
from training.cycle import choose_model
from training.folds import expanding_folds
from training.model import train_bundle
from training.tournament import (
    Entrant,
    ModelChoice,
    TournamentResult,
    distinct,
    paired_se,
    tournament_settings,
)

SEED = 42


def _frame(weeks: int, per_week: int = 20, positives: int = 6) -> pd.DataFrame:
    start = pd.Timestamp("2026-01-05")
    rows = []
    for w in range(weeks):
        for i in range(per_week):
            rows.append({"cohort": start + pd.Timedelta(weeks=w),
                         "scoreable_at": start + pd.Timedelta(weeks=w, hours=i),
                         "label": int(i < positives)})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


def test_folds_fit_only_on_weeks_before_the_block_they_check():
    frame = _frame(12)
    folds = expanding_folds(frame, 3)
    assert len(folds) == 3
    for fold in folds:
        assert frame["cohort"].iloc[fold.fit].max() < frame["cohort"].iloc[fold.check].min()
    checked = [frame["cohort"].iloc[f.check].min() for f in folds]
    assert checked == sorted(checked)  # oldest block first: an expanding window
    assert frame["cohort"].iloc[folds[-1].check].max() == frame["cohort"].max()


def test_a_block_without_enough_sqls_is_not_a_fold():
    frame = _frame(6, positives=2)  # each week has 2 SQLs: a one-week block has too few
    assert all(frame["label"].iloc[f.check].sum() >= 5 for f in expanding_folds(frame, 3))
    assert expanding_folds(_frame(1), 3) == []


def test_settings_name_the_bad_key_or_value():
    config = synthetic_leads.config()
    config["cycle"]["tournament"] = {"trails": 5}
    with pytest.raises(LeadscoreError, match="no setting 'trails'"):
        tournament_settings(config)
    config["cycle"]["tournament"] = {"trials": "many"}
    with pytest.raises(LeadscoreError, match="trials is 'many'"):
        tournament_settings(config)


def _interaction(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Seniority matters only for leads who viewed pricing: a signal that needs another."""
    rng = np.random.default_rng(seed)
    senior = frame["seniority"].isin(["c_level", "vp", "director"]).to_numpy()
    pricing = (frame["n_pricing_view_30d"] > 0).to_numpy()
    logit = -2.2 + 2.8 * (senior & pricing) - 1.2 * (senior & ~pricing)
    out = frame.copy()
    out["true_p"] = 1 / (1 + np.exp(-logit))
    out["label"] = (rng.uniform(size=len(out)) < out["true_p"]).astype(np.int64)
    return out


@pytest.fixture(scope="module")
def planted():
    config = synthetic_leads.config()
    specs = synthetic_leads.specs()
    additive = synthetic_leads.leads(6000, seed=1, weeks=24)
    out = {}
    for name, frame in (("additive", additive), ("interaction", _interaction(additive, 5))):
        train, calib, valid = synthetic_leads.split(frame)
        result = choose_model(train, calib, specs, config, SEED)
        print(name, result.sentence(), result.table.to_string(), sep="\n")
        out[name] = (result, train, calib, valid)
    return out


def test_an_interaction_is_won_by_the_trees(planted):
    result = planted["interaction"][0]
    losses = result.table.set_index("family")["mean_log_loss"]
    assert result.choice.family == "lightgbm"
    assert losses["logistic"] - losses["lightgbm"] > 0.02  # the additive model cannot see it


def test_an_additive_truth_is_matched_by_the_logistic_model_or_the_blend(planted):
    result = planted["additive"][0]
    losses = result.table.set_index("family")["mean_log_loss"]
    assert result.choice.family in ("logistic", "blend")
    assert losses["logistic"] - losses.min() < 0.005  # within noise of the best


def test_every_entrant_is_scored_on_the_same_folds_and_the_winner_is_best_or_simpler(planted):
    for result, *_ in planted.values():
        assert {e.family for e in result.entrants} == {"logistic", "lightgbm", "blend"}
        assert len({len(e.log_loss) for e in result.entrants}) == 1
        best = min(e.mean_log_loss for e in result.entrants)
        assert result.winner.mean_log_loss <= best + result.tie_tolerance
        assert len(result.trials) == tournament_settings(synthetic_leads.config())["trials"]
        assert result.choice.family in result.sentence()


def test_the_same_weeks_and_seed_choose_the_same_model(planted):
    result, train, calib, _ = planted["interaction"]
    again = choose_model(train, calib, synthetic_leads.specs(), synthetic_leads.config(), SEED)
    assert again.choice == result.choice
    pd.testing.assert_frame_equal(again.table.drop(columns="seconds"),
                                  result.table.drop(columns="seconds"))


def test_the_folds_never_reach_the_validation_cohort(planted):
    result, train, calib, valid = planted["additive"]
    assert max(result.folds) < str(valid["cohort"].min())


@pytest.mark.parametrize("family", ["lightgbm", "logistic", "blend"])
def test_reasons_add_up_for_every_family(planted, family, tmp_path):
    _, train, calib, valid = planted["additive"]
    choice = ModelChoice(family, {"num_leaves": 7, "learning_rate": 0.1}, 60, C=0.1, bins=8,
                         blend_weight={"lightgbm": 1.0, "logistic": 0.0, "blend": 0.4}[family])
    bundle = train_bundle(train, calib, synthetic_leads.specs(), synthetic_leads.config(),
                          seed=SEED, meta={}, choice=choice)
    X = bundle.encoder.transform(valid)
    contrib = bundle.contributions(X)
    np.testing.assert_allclose(contrib.sum(axis=1), bundle.margins(X)["full"], atol=1e-6)
    assert bundle.family == family and (family == "logistic") == (not bundle.boosters)
    # the saved bundle scores the same through the path every scorer uses
    again = ScoringBundle.load(bundle.save(tmp_path / family))
    pd.testing.assert_frame_equal(score_frame(again, valid), score_frame(bundle, valid))
    np.testing.assert_allclose(again.contributions(X), contrib, atol=1e-12)


@pytest.mark.parametrize("family", ["logistic", "blend"])
def test_more_pricing_views_never_lower_the_score_of_a_linear_family(planted, family):
    _, train, calib, valid = planted["additive"]
    choice = ModelChoice(family, {}, 60, C=1.0, bins=8, blend_weight=0.5)
    bundle = train_bundle(train, calib, synthetic_leads.specs(), synthetic_leads.config(),
                          seed=SEED, meta={}, choice=choice)
    leads = valid.head(200).copy()
    before = score_frame(bundle, leads)
    for column in ("n_pricing_view_7d", "n_pricing_view_30d"):
        leads[column] = leads[column] + 3
    after = score_frame(bundle, leads)
    for score in ("score", "intent_score"):
        assert (after[score] >= before[score] - 1e-12).all()


def test_switched_off_there_is_no_tournament_and_the_fixed_lightgbm_trains(planted):
    _, train, calib, _ = planted["additive"]
    config = synthetic_leads.config()
    config["cycle"]["tournament"] = {"enabled": False}
    assert choose_model(train, calib, synthetic_leads.specs(), config, SEED) is None
    bundle = train_bundle(train, calib, synthetic_leads.specs(), config, seed=SEED, meta={})
    assert bundle.family == "lightgbm" and bundle.manifest["lightgbm"]["num_boost_round"] == 80


def _entrant(family: str, losses: list[np.ndarray]):
    return Entrant(family, [float(x.mean()) for x in losses], [0.5] * len(losses),
                   [0.5] * len(losses), {}, 0.0, losses)


def _result(entrants, tolerance: float = 0.0005, standard_errors: float = 1.0):
    return TournamentResult(ModelChoice("blend"), entrants, pd.DataFrame(), ["a", "b", "c"],
                            tolerance, standard_errors)


def test_the_paired_standard_error_is_that_of_the_mean_of_fold_means():
    rng = np.random.default_rng(0)
    a = [rng.random(n) for n in (50, 80, 120)]
    b = [x + rng.normal(0.01, 0.05, len(x)) for x in a]
    pairs = list(zip(a, b, strict=True))
    by_hand = np.sqrt(sum(np.var(x - y, ddof=1) / len(x) for x, y in pairs)) / 3
    assert paired_se(_entrant("blend", a), _entrant("lightgbm", b)) == pytest.approx(by_hand)
    # pairing matters: the same gap with a shared per-lead part has a smaller error
    assert paired_se(_entrant("blend", a), _entrant("lightgbm", b)) < np.sqrt(
        sum((np.var(x, ddof=1) + np.var(y, ddof=1)) / len(x) for x, y in pairs)) / 3


def test_a_gap_within_noise_goes_to_the_simpler_model_and_a_real_gap_does_not():
    rng = np.random.default_rng(1)
    base = [rng.random(400) for _ in range(3)]
    noise = [e - e.mean() for e in (rng.normal(0.0, 0.1, 400) for _ in range(3))]
    blend = _entrant("blend", base)
    # lightgbm worse by exactly 0.002 on average, with per-lead noise 0.1: the error is ~0.003
    noisy = _entrant("lightgbm", [x + 0.002 + e for x, e in zip(base, noise, strict=True)])
    result = _result([noisy, blend])
    assert noisy.mean_log_loss - blend.mean_log_loss == pytest.approx(0.002)
    assert result.tie_tolerance < 0.002 < result.allowance(noisy, blend)
    assert result.simplest_within_noise() == "lightgbm"
    result.choice = ModelChoice("lightgbm")
    assert "tied with blend" in result.sentence() and "standard error" in result.sentence()
    # the same gap measured without noise is real: the better model wins
    steady = _entrant("lightgbm", [x + 0.002 for x in base])
    assert _result([steady, blend]).simplest_within_noise() == "blend"
    # with the rule off only the fixed tolerance counts
    assert _result([noisy, blend], standard_errors=0.0).simplest_within_noise() == "blend"
    won = _result([steady, blend])
    won.choice = ModelChoice("blend")
    assert "lower than lightgbm" in won.sentence()


def test_a_won_gap_is_never_printed_equal_to_the_allowance_it_beat():
    assert distinct(0.00312, 0.00309) == ("0.00312", "0.00309")
    assert distinct(0.0052, 0.0031) == ("0.0052", "0.0031")
    rng = np.random.default_rng(3)
    base = [rng.random(400) for _ in range(3)]
    noise = [e - e.mean() for e in (rng.normal(0.0, 0.1, 400) for _ in range(3))]
    blend = _entrant("blend", base)
    probe = _entrant("lightgbm", [x + 0.002 + e for x, e in zip(base, noise, strict=True)])
    allowed = _result([probe, blend]).allowance(probe, blend)
    # lightgbm worse than blend by a hair more than the allowance: a win that rounds to a tie
    worse = _entrant("lightgbm", [x + allowed + 0.00001 + e
                                  for x, e in zip(base, noise, strict=True)])
    won = _result([worse, blend])
    won.choice = ModelChoice("blend")
    sentence = won.sentence()
    assert "lower than lightgbm" in sentence, sentence
    gap = float(sentence.split("), ")[1].split(" lower")[0])
    shown_allowance = float(sentence.split("more than the ")[1].split(" a tie")[0])
    assert gap > shown_allowance, sentence


def test_a_tie_by_tolerance_is_never_said_to_be_under_an_equal_looking_tolerance():
    # a cycle of the replayed bank export: 0.4943 vs 0.4948, tolerance 0.0005, no per-lead noise
    base = [np.full(300, 0.4943)] * 3
    lightgbm = _entrant("lightgbm", base)
    blend = _entrant("blend", [x + 0.000498 for x in base])
    result = _result([blend, lightgbm])
    result.choice = ModelChoice("lightgbm")
    sentence = result.sentence()
    assert "the gap, 0.0005, is within the tie tolerance 0.0005" in sentence, sentence
    assert "under" not in sentence


def test_one_fold_is_said_in_the_singular():
    # cycle.tournament.folds: 1 printed "on 1 time-ordered folds of the training weeks"
    base = [np.full(300, 0.40)]
    result = TournamentResult(ModelChoice("lightgbm"),
                              [_entrant("lightgbm", base), _entrant("blend", base)],
                              pd.DataFrame(), ["a"], 0.0005, 1.0)
    assert "on 1 time-ordered fold of the training weeks" in result.sentence()
    assert "on 3 time-ordered folds of" in _result([_entrant("blend", [np.full(9, 0.4)] * 3)]
                                                   ).sentence()


def test_with_the_standard_error_rule_off_a_tie_is_said_to_be_by_the_tolerance():
    # cycle.tournament.tie_standard_errors: 0 turns the rule off, yet a gap of 0.0000 read "is
    # within 0 standard errors (0.0003) of the paired difference"
    base = [np.full(300, 0.4)] * 3
    result = TournamentResult(ModelChoice("lightgbm"),
                              [_entrant("lightgbm", base), _entrant("blend", base)],
                              pd.DataFrame(), ["a", "b", "c"], 0.0005, 0.0)
    sentence = result.sentence()
    assert "standard error" not in sentence, sentence
    assert "the gap, 0.0000, is within the tie tolerance 0.0005" in sentence, sentence
