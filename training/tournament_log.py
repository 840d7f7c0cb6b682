"""Logging the model tournament: one nested MLflow child run per entrant of the cycle's run.

Each child run (``entrant: lightgbm`` ...) carries the entrant's settings as params, its fold scores
as metrics (``fold_log_loss`` with one step per fold, and the means), and its time; the LightGBM
child also carries the Optuna trial history (``trials.csv`` and ``trial_log_loss`` by step). The
cycle's run gets the winner (``tournament_winner`` tag, ``tournament.md`` artifact: the entrants'
table and the sentence) and the margin over the runner-up (``tournament_margin_log_loss``) with
its paired standard error (``tournament_margin_se``).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import mlflow

from training.tournament import TournamentResult

WINNER_TAG = "tournament_winner"
SENTENCE_TAG = "tournament_sentence"


def entrants_markdown(result: TournamentResult) -> str:
    """The entrants' table (best first) and the sentence, as Markdown."""
    table = result.table.round({"mean_log_loss": 4, "mean_roc_auc": 4, "mean_pr_auc": 4,
                                "seconds": 1})
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join([result.sentence(), "", *lines, "",
                      f"Folds (first week of each checked block): {', '.join(result.folds)}", ""])


def log_tournament(result: TournamentResult) -> None:
    """Log the tournament on the active MLflow run (the cycle's) and its child runs."""
    # a nested run goes to the default experiment unless told the parent's
    experiment_id = mlflow.active_run().info.experiment_id
    for entrant in result.entrants:
        with mlflow.start_run(run_name=f"entrant: {entrant.family}", nested=True,
                              experiment_id=experiment_id):
            mlflow.set_tags({"entrant": entrant.family,
                             "winner": str(entrant.family == result.choice.family).lower()})
            mlflow.log_params({k: v for k, v in entrant.params.items()})
            for step, (loss, roc, pr) in enumerate(zip(entrant.log_loss, entrant.roc_auc,
                                                       entrant.pr_auc, strict=True)):
                mlflow.log_metrics({"fold_log_loss": loss, "fold_roc_auc": roc,
                                    "fold_pr_auc": pr}, step=step)
            row = entrant.row()
            mlflow.log_metrics({k: float(row[k]) for k in
                                ("mean_log_loss", "mean_roc_auc", "mean_pr_auc", "seconds")})
            if entrant.family == "lightgbm" and not result.trials.empty:
                for step, value in enumerate(result.trials["value"]):
                    if value is not None and math.isfinite(float(value)):
                        mlflow.log_metric("trial_log_loss", float(value), step=step)
                with tempfile.TemporaryDirectory(prefix="leadscore-trials-") as tmp:
                    path = Path(tmp) / "trials.csv"
                    result.trials.to_csv(path, index=False)
                    mlflow.log_artifact(str(path))
    mlflow.set_tags({WINNER_TAG: result.choice.family, SENTENCE_TAG: result.sentence()})
    mlflow.log_params({"tournament_folds": len(result.folds),
                       "tournament_trials": len(result.trials)})
    mlflow.log_metric("tournament_winner_log_loss", result.winner.mean_log_loss)
    if math.isfinite(result.margin):
        mlflow.log_metric("tournament_margin_log_loss", result.margin)
        mlflow.log_metric("tournament_margin_se", result.margin_se)
    mlflow.log_text(entrants_markdown(result), "tournament.md")
