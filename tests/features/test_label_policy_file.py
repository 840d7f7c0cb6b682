"""The label policy file (its hash, malformed and missing files) and labels of whole exports."""

from __future__ import annotations

import shutil
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest

import generator as generate
from features import ingest
from features import mapping as mapping_module
from features.labels import (
    build_labels,
    label_summary,
    load_policy,
)
from features.store import connect
from leadscore.errors import LeadscoreError

MATURITY = 30
POLICY = load_policy()


def shipped_text() -> str:
    return resources.files("features").joinpath("label_policy.yaml").read_text()


def test_policy_hash_is_stable_and_follows_content_not_layout(tmp_path):
    copy = tmp_path / "copy.yaml"
    shutil.copyfile(Path(resources.files("features").joinpath("label_policy.yaml")), copy)
    assert load_policy().hash == load_policy(copy).hash == POLICY.hash
    assert len(POLICY.hash) == 64 and POLICY.short_hash == POLICY.hash[:12]

    relaid = tmp_path / "relaid.yaml"
    lines = [line.split("#")[0].rstrip() for line in shipped_text().splitlines()]
    relaid.write_text("# a team's comment\n" + "\n".join(line for line in lines if line))
    assert load_policy(relaid).hash == POLICY.hash

    remapped = tmp_path / "remapped.yaml"
    remapped.write_text(
        shipped_text().replace("bad_timing: intent_negative", "bad_timing: excluded")
    )
    assert load_policy(remapped).family(None, "bad_timing") == "excluded"
    assert load_policy(remapped).hash != POLICY.hash

    added = tmp_path / "added.yaml"
    added.write_text(shipped_text() + "\n  lost_interest: intent_negative\n")
    assert load_policy(added).hash not in (POLICY.hash, load_policy(remapped).hash)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1\nreason_codes: [wrong_title]\n", "not a mapping"),
        ("version: 1\nreason_codes:\n  wrong_title: negative\n", "'negative'"),
        ("version: 1\nreason_codes:\n  wrong_title:\n", "None"),
        ("version: 1\noutcome_stages:\n  sql:\nreason_codes:\n  x: positive\n", "'sql'"),
        ("reason_codes:\n  wrong_title: fit_negative\n", "integer 'version'"),
        ("version: 1\nreason_codes:\n  no: intent_negative\n", "quote it"),
        ("version: 1\nreasons:\n  wrong_title: fit_negative\n", "unknown key(s) reasons"),
        ("version: 1\n", "no reason codes and no statuses"),
        ("- just a list\n", "not a YAML mapping"),
        ("version: 1\nreason_codes: {wrong_title: fit_negative\n", "not valid YAML"),
    ],
)
def test_a_malformed_policy_is_a_clear_error_naming_the_file(tmp_path, text, fragment):
    path = tmp_path / "bad_policy.yaml"
    path.write_text(text)
    with pytest.raises(LeadscoreError) as error:
        load_policy(path)
    assert str(path) in str(error.value)
    assert fragment in str(error.value)


def test_a_missing_policy_file_is_a_clear_error(tmp_path):
    with pytest.raises(LeadscoreError, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")


# --- on generated data: labels recover the planted conversion rates ------------------------------

GENERATED_END = datetime(2026, 11, 1)  # generate_frames' default window end


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """20,000 generated leads ingested for real (normalisation included), labelled, with truth."""
    export = generate.generate_frames(20_000, seed=11)
    folder = tmp_path_factory.mktemp("generated")
    for name in ("leads", "dispositions", "outcomes"):  # labels read no activities
        getattr(export, name).to_parquet(folder / f"{name}.parquet", index=False)
    ingest.ingest_paths([folder], store=folder / "store.duckdb")
    with connect(folder / "store.duckdb", read_only=True) as con:
        labels = build_labels(con, GENERATED_END, POLICY, MATURITY)
        summary = label_summary(con, GENERATED_END, POLICY, MATURITY)
    return labels.merge(export.truth, on="lead_id", how="left", validate="1:1"), summary


@pytest.mark.slow
@pytest.mark.parametrize("segment", ["seniority", "company_size_band"])
def test_matured_labels_match_the_planted_rate_in_every_segment(generated, segment):
    labels, _ = generated
    matured = labels[labels["matured"]]
    assert len(matured) > 15_000
    failures = []
    for value, rows in matured.groupby(segment):
        n = len(rows)
        observed = rows["label"].mean()
        expected = rows["true_p"].mean()
        tolerance = 3.5 * (rows["true_p"] * (1 - rows["true_p"])).sum() ** 0.5 / n + 0.002
        if abs(observed - expected) > tolerance:
            failures.append(f"{value}: n={n} observed {observed:.4f} vs {expected:.4f}")
    assert not failures, failures


@pytest.mark.slow
def test_matured_labels_are_the_planted_draw(generated):
    labels, summary = generated
    matured = labels[labels["matured"]]
    assert (matured["label"] == matured["converted"].astype(int)).all()
    # early verdicts (inside the window) over-represent quick rejections and bookings
    assert summary["matured_labelled"] == len(matured)
    assert summary["unmatured_open_leads"] > 0
    assert set(summary["excluded"]) == {"invalid_contact", "junk_contact", "recycled"}
    assert 0.04 < sum(summary["excluded"].values()) / summary["leads_considered"] < 0.08


def test_every_code_the_x_education_mapping_emits_is_in_the_policy():
    path = Path(str(resources.files("features").joinpath("mappings/x-education.yaml")))
    mapping = mapping_module.load_mapping(path)
    emitted = {
        (rule.role, target)
        for rule in mapping.columns.values()
        if rule.role in ("disposition_reason", "outcome")
        for target in (rule.values or {}).values()
        if target is not None
    }
    assert {role for role, _ in emitted} == {"disposition_reason", "outcome"}
    unknown = [
        target
        for role, target in emitted
        if (
            POLICY.stage_family(target[0]) is None
            if role == "outcome"
            else target[0] not in POLICY.statuses or POLICY.family(*target) is None
        )
    ]
    assert not unknown, unknown
