"""The linear model's values and contributions, on tiny inline matrices."""

from __future__ import annotations

import numpy as np

from scoring.linear import LinearModel, LinearTerm, blend_contributions, numeric_knots


def _model() -> LinearModel:
    return LinearModel(-1.0, (
        LinearTerm((1.0, 3.0, 5.0), 0, (0.1, 0.5, 0.9, -0.2), 0.3),  # spline: 3 knots + missing
        LinearTerm(None, 2, (0.7, -0.4, 0.05), 0.1),                # 2 codes + missing
    ))


def test_a_spline_interpolates_between_knots_and_is_flat_beyond_them():
    term = _model().terms[0]
    values = term.value(np.array([0.0, 1.0, 2.0, 4.0, 5.0, 9.0, np.nan]))
    np.testing.assert_allclose(values, [0.1, 0.1, 0.3, 0.7, 0.9, 0.9, -0.2])


def test_levels_read_codes_and_missing():
    term = _model().terms[1]
    np.testing.assert_allclose(term.value(np.array([0.0, 1.0, np.nan])), [0.7, -0.4, 0.05])


def test_contributions_add_up_to_the_margin_and_centre_on_the_training_mean():
    X = np.array([[0.5, 0.0], [2.0, 1.0], [np.nan, np.nan]])
    model = _model()
    contrib = model.contributions(X)
    expected = -1.0 + np.array([0.1 + 0.7, 0.3 - 0.4, -0.2 + 0.05])
    np.testing.assert_allclose(model.margin(X), expected, atol=1e-12)
    np.testing.assert_allclose(contrib.sum(axis=1), expected, atol=1e-12)
    np.testing.assert_allclose(contrib[:, -1], -1.0 + 0.3 + 0.1)
    assert contrib[0, 0] == 0.1 - 0.3


def test_round_trip_through_a_dict_scores_the_same():
    X = np.array([[0.5, 0.0], [9.0, 1.0]])
    model = _model()
    again = LinearModel.from_dict(model.as_dict())
    np.testing.assert_array_equal(again.contributions(X), model.contributions(X))


def test_blend_contributions_are_the_weighted_sum():
    tree = np.array([[1.0, -2.0, 0.5]])
    linear = np.array([[0.2, 0.4, -1.0]])
    blended = blend_contributions(tree, linear, 0.25)
    np.testing.assert_allclose(blended.sum(axis=1), 0.25 * tree.sum() + 0.75 * linear.sum())


def test_knots_are_distinct_quantiles_from_the_minimum_to_the_maximum():
    knots = numeric_knots(np.array([0, 0, 0, 0, 1, 2, 3, np.nan]), 5)
    assert list(knots) == sorted(set(knots)) and knots[0] == 0 and knots[-1] == 3
    assert numeric_knots(np.array([np.nan, np.nan]), 4) == (0.0,)


def test_a_contribution_of_float_noise_is_never_a_reason():
    # a linear term of a feature every lead shares is ~1e-17, not 0: it read "+0.000" as a reason
    from scoring.reasons import reasons_for

    specs = [{"name": "industry", "group": "fit", "kind": "categorical",
              "label": "Industry: {value}"},
             {"name": "n_page_view_7d", "group": "intent", "kind": "numeric",
              "label": "Viewed {n} page{s} in the last 7 days"}]
    contrib = np.array([1.4e-17, 0.35, -1.2])
    reasons = reasons_for(contrib, {"industry": "Software", "n_page_view_7d": 4}, specs, 3)
    assert [r.feature for r in reasons] == ["n_page_view_7d"]
