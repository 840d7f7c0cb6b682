"""What sales did with the leads: dispositions (rep verdicts) and outcomes (pipeline stages).

Every lead first takes one *path*, drawn independently of everything else:

==============  =====  ===================================================================
path            share  what the export shows
==============  =====  ===================================================================
disqualified     3 %   status "disqualified", reason junk_contact / invalid_contact
recycled         3 %   status "recycled", reason recycled
undispositioned  8 %   no disposition row (a converted lead still has its outcome rows)
worked          86 %   a converted lead: "meeting_booked"; any other: "rejected" + a reason
==============  =====  ===================================================================

A disqualified or recycled lead shows no outcome even when its latent draw converted, so among
labelled leads the observed SQL rate matches the planted ``true_p`` segment by segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator import planted
from generator.planted import SENIORITY_CODES, SIZE_CODES, sigmoid
from generator.timeline import DAY, HOUR

DISQUALIFIED, RECYCLED, UNDISPOSITIONED, WORKED = range(4)
PATH_SHARES = (0.03, 0.03, 0.08, 0.86)
SQL_WITHIN_DAYS = 21
OPPORTUNITY_SHARE = 0.45  # of SQLs
CLOSED_SHARE = 0.80  # of opportunities, eventually
INTERIM_SHARE = 0.45  # worked leads that show a "working"/"accepted" row before the verdict
FIT_REASONS = ("wrong_title", "student", "wrong_company_size", "out_of_icp", "already_customer")
_AMOUNT_BY_SIZE = np.array([-0.8, -0.4, 0.0, 0.4, 0.8, 1.1, 0.0])  # log-scale, SIZE_CODES order
_STUDENT = SENIORITY_CODES.index("student")
_UNKNOWN_SIZE = SIZE_CODES.index("unknown")


@dataclass
class Rows:
    """Table rows as parallel arrays; ``lead`` is the lead's row in its chunk."""

    columns: dict[str, np.ndarray]

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        names = parts[0].columns
        return Rows({c: np.concatenate([p.columns[c] for p in parts]) for c in names})


def _gamma_days(rng, shape: float, mean_days: float, n: int) -> np.ndarray:
    return rng.gamma(shape, mean_days * DAY / shape, n).astype(np.int64)


def _choose(rng, weights: np.ndarray) -> np.ndarray:
    """One column index per row, with probability proportional to the row's weights."""
    cum = np.cumsum(weights, axis=1)
    r = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum <= r[:, None]).sum(axis=1), weights.shape[1] - 1)


def rejection_reasons(fit: dict[str, np.ndarray], seniority: np.ndarray, intent: np.ndarray,
                      rng) -> np.ndarray:
    """A reason code per non-converted lead: fit-caused when fit is low, intent-caused when
    intent is low (see ``planted.CAUSE_SLOPE``)."""
    n = len(intent)
    fit_total = sum(fit.values())
    p_fit = sigmoid(planted.CAUSE_SLOPE * (intent - fit_total) + planted.CAUSE_OFFSET)
    by_fit = rng.random(n) < p_fit
    # the fit reason names the weakest attribute
    student = seniority == _STUDENT
    fit_weights = np.column_stack([
        np.where(student, 0.0, np.maximum(0.0, -fit["seniority"]) + 0.1),
        np.where(student, 3.0, 0.0),
        np.maximum(0.0, -fit["company_size_band"]) + 0.1,
        np.maximum(0.0, -fit["industry"] - fit["free_email"]) + 0.1,
        np.full(n, planted.ALREADY_CUSTOMER_WEIGHT),
    ])
    intent_weights = np.tile(np.array(list(planted.INTENT_REASONS.values())), (n, 1))
    intent_weights[:, 0] += np.where(intent == 0, planted.NO_RESPONSE_NO_INTENT, 0.0)
    fit_reason = np.array(FIT_REASONS, dtype=object)[_choose(rng, fit_weights)]
    intent_reason = np.array(list(planted.INTENT_REASONS), dtype=object)[_choose(rng,
                                                                               intent_weights)]
    return np.where(by_fit, fit_reason, intent_reason)


def sales_history(
    mql: np.ndarray,
    fit: dict[str, np.ndarray],
    seniority: np.ndarray,
    size: np.ndarray,
    intent: np.ndarray,
    converted: np.ndarray,
    rep: np.ndarray,
    end: int,
    rng: np.random.Generator,
) -> tuple[Rows, Rows]:
    """Dispositions and outcomes of a chunk's leads, as of ``end`` (nothing at/after it)."""
    n = len(mql)
    path = np.searchsorted(np.cumsum(PATH_SHARES), rng.random(n) * sum(PATH_SHARES),
                           side="right")
    # speed to lead: minutes for some, days for others
    delay_min = np.exp(np.log(150.0) + 1.8 * rng.standard_normal(n))
    first_touch = mql + np.clip(delay_min * 60, 60, 10 * DAY).astype(np.int64)

    reason = rejection_reasons(fit, seniority, intent, rng)
    worked_no = (path == WORKED) & ~converted
    status = np.full(n, "rejected", dtype=object)
    status[path == DISQUALIFIED] = "disqualified"
    status[path == RECYCLED] = "recycled"
    status[(path == WORKED) & converted] = "meeting_booked"
    reason = np.where(worked_no, reason, None)
    reason[path == DISQUALIFIED] = np.where(rng.random((path == DISQUALIFIED).sum()) < 0.6,
                                            "junk_contact", "invalid_contact")
    reason[path == RECYCLED] = "recycled"
    reason[status == "meeting_booked"] = "meeting_booked"

    # the SQL moment of every converted lead, within SQL_WITHIN_DAYS of mql_at
    sql_at = first_touch + _gamma_days(rng, 2.0, 5.0, n)
    sql_at = np.clip(sql_at, first_touch + 600, mql + SQL_WITHIN_DAYS * DAY - HOUR)

    no_response = reason == "no_response"
    fit_reason = np.isin(reason, FIT_REASONS)
    verdict_at = np.select(
        [status == "meeting_booked", path == DISQUALIFIED, path == RECYCLED, no_response,
         fit_reason],
        [sql_at, first_touch + _gamma_days(rng, 1.0, 0.5, n),
         first_touch + rng.integers(3 * DAY, 25 * DAY, n),
         first_touch + rng.integers(8 * DAY, 16 * DAY, n),
         first_touch + _gamma_days(rng, 1.2, 1.0, n)],
        default=first_touch + _gamma_days(rng, 2.0, 3.0, n),
    )
    verdict_at = np.maximum(verdict_at, first_touch + 300)
    attempts = np.select(
        [status == "meeting_booked", no_response, fit_reason, path == DISQUALIFIED,
         path == RECYCLED],
        [1 + rng.binomial(3, 0.3, n), rng.integers(5, 9, n), rng.integers(1, 4, n),
         rng.integers(1, 3, n), rng.integers(2, 7, n)],
        default=rng.integers(2, 6, n),
    )
    rep_text = np.array([f"rep_{i:02d}" for i in range(1, rep.max(initial=1) + 1)],
                        dtype=object)[rep - 1]

    has_verdict = path != UNDISPOSITIONED
    # an interim row while the rep works the lead; always there when the verdict is still ahead
    interim = has_verdict & (verdict_at - first_touch >= HOUR) & (
        (rng.random(n) < INTERIM_SHARE) | (verdict_at >= end)
    )
    interim_status = np.where(rng.random(n) < 0.5, "working", "accepted").astype(object)
    r = rng.random(n)
    interim_reason = np.where(
        interim_status == "working",
        np.where(r < 0.5, None, np.where(r < 0.75, "in_progress", "follow_up")),
        None,
    )
    final = np.flatnonzero(has_verdict & (verdict_at < end))
    early = np.flatnonzero(interim & (first_touch < end))
    dispositions = Rows.concat([
        Rows({"lead": early, "dispositioned_at": first_touch[early],
              "status": interim_status[early], "reason_code": interim_reason[early],
              "rep_id": rep_text[early], "attempts": np.ones(len(early), dtype=np.int64),
              "first_touch_at": first_touch[early]}),
        Rows({"lead": final, "dispositioned_at": verdict_at[final], "status": status[final],
              "reason_code": reason[final], "rep_id": rep_text[final],
              "attempts": attempts[final].astype(np.int64), "first_touch_at": first_touch[final]}),
    ])

    # outcomes: SQL, then for some an opportunity, then for most of those a close
    shows = converted & ((path == WORKED) | (path == UNDISPOSITIONED))
    opportunity = shows & (rng.random(n) < OPPORTUNITY_SHARE)
    closed = opportunity & (rng.random(n) < CLOSED_SHARE)
    won = closed & (rng.random(n) < sigmoid(-0.8 + 0.4 * sum(fit.values())))
    opp_at = sql_at + _gamma_days(rng, 2.0, 10.0, n)
    close_at = opp_at + _gamma_days(rng, 3.0, 36.0, n)
    amount = np.round(np.exp(np.log(18_000) + _AMOUNT_BY_SIZE[size]
                             + 0.7 * rng.standard_normal(n)), -2)
    won_amount = np.round(amount * rng.uniform(0.8, 1.05, n), -2)
    parts = []
    for mask, stage, at, value in (
        (shows, "sql", sql_at, np.full(n, np.nan)),
        (opportunity, "opportunity", opp_at, amount),
        (won, "closed_won", close_at, won_amount),
        (closed & ~won, "closed_lost", close_at, amount),
    ):
        rows = np.flatnonzero(mask & (at < end))
        parts.append(Rows({"lead": rows, "stage": np.full(len(rows), stage, dtype=object),
                           "occurred_at": at[rows], "amount": value[rows]}))
    outcomes = Rows.concat(parts)
    return dispositions, outcomes
