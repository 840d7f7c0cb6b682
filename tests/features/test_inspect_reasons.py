"""``leadscore inspect`` on a column of the reps' reasons: a commented-out disposition_reason
block with guessed reason codes, which loads once a person has picked every CHOOSE."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from features.inspect_reasons import guess
from features.label_policy import load_policy
from features.mapping_v2 import load_any
from leadscore.errors import LeadscoreError


@pytest.mark.parametrize(("reason", "code"), [
    ("No Budget", "no_budget"), ("Too expensive", "no_budget"), ("Bad Timing", "bad_timing"),
    ("Lost to Competitor", "competitor"), ("Unresponsive", "no_response"),
    ("Not interested", "not_interested"), ("Wrong Contact", "wrong_title"),
    ("Not a Fit", "out_of_icp"), ("Junk", "junk_contact"), ("Duplicate", "duplicate"),
    ("Student", "student"), ("Existing customer", "already_customer"),
    ("Meeting booked", "meeting_booked"), ("Other", None), ("Misc.", None),
    # Dynamics 365's Status Reason: "Qualified" was drafted {status: rejected, reason_code:
    # CHOOSE}, and its two plainest rejections CHOOSE as well
    ("Qualified", "converted"), ("No Longer Interested", "not_interested"),
    ("Cannot Contact", "no_response"), ("Unable to reach", "no_response"),
    ("New", "in_progress"), ("Contacted", "in_progress"), ("Canceled", None), ("Lost", None),
    ("Disqualified", None), ("Not Qualified", "out_of_icp"), ("Closed - Not Converted", None),
    ("Closed - Converted", "converted"),
])
def test_a_reasons_words_point_to_a_policy_code(reason, code):
    assert guess(reason) == code
    assert code is None or code in load_policy().reason_codes


@pytest.fixture
def export(tmp_path):
    n = 300
    rng = np.random.default_rng(4)
    won = rng.random(n) < 0.3
    reasons = ["No Budget", "Wrong Contact", "Junk", "Other"]
    path = tmp_path / "leads.csv"
    pd.DataFrame({
        "Lead ID": [f"L{i:04d}" for i in range(n)],
        "Created Date": pd.date_range("2024-01-01", periods=n, freq="6h").strftime("%Y-%m-%d"),
        "Industry": rng.choice(["Software", "Retail"], n),
        "Lead Status": np.where(won, "Converted", "Disqualified"),
        "Disqualification Reason": np.where(won, "", rng.choice(reasons, n)),
    }).to_csv(path, index=False)
    return path


def test_a_positive_or_open_reason_is_drafted_with_its_status():
    from features.inspect_reasons import drafted_value
    policy = load_policy().reason_codes
    assert drafted_value("Qualified", policy) == "{status: converted, reason_code: converted}"
    assert drafted_value("New", policy) == "{status: working, reason_code: in_progress}"
    assert drafted_value("Lost", policy) == "{status: rejected, reason_code: CHOOSE}"


def test_the_draft_offers_the_reasons_as_a_commented_disposition_block(export, tmp_path):
    text = draft(inspect([export], outcome="Lead Status", positive=["Converted"]))
    block = [line for line in text.splitlines() if line.startswith("      #     ")]
    assert '      #     "No Budget": {status: rejected, reason_code: no_budget}' in block
    assert '      #     "Junk": {status: disqualified, reason_code: junk_contact}' in block
    assert '      #     "Other": {status: rejected, reason_code: CHOOSE}' in block
    assert "      #   role: disposition_reason" in text
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_any(path).main.columns["Disqualification Reason"].rule.role == "post_outcome"

    # uncommented as it stands: the placeholder is refused in one sentence naming the value
    lines = text.splitlines()
    start = lines.index("      # Disqualification Reason:")
    taken = [re.sub(r"^      # ", "      ", line) for line in lines[start:start + len(block) + 5]]
    rest = [line for line in lines[start + len(block) + 5:]
            if not line.startswith("      Disqualification Reason: ")]
    uncommented = "\n".join(lines[:start] + taken + rest) + "\n"
    path.write_text(uncommented, encoding="utf-8")
    with pytest.raises(LeadscoreError, match="maps 'Other' to reason_code CHOOSE"):
        load_any(path)

    # once a person picks the code, the reasons land as dispositions with their codes
    path.write_text(uncommented.replace("CHOOSE", "not_interested"), encoding="utf-8")
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store, mapping=path)
    with duckdb.connect(str(store), read_only=True) as con:
        codes = dict(con.execute("select reason_code, count(*) from dispositions "
                                 "group by 1").fetchall())
    assert set(codes) == {"no_budget", "wrong_title", "junk_contact", "not_interested"}


def test_a_free_text_or_unnamed_column_gets_no_reasons_block(export, tmp_path):
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"Disqualification Reason": "Notes Field"})
    frame.to_csv(export, index=False)
    text = draft(inspect([export], outcome="Lead Status", positive=["Converted"]))
    assert "disposition_reason" not in text
