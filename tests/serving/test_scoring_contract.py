"""One scoring contract: the same leads through a real `leadscore serve`, `leadscore score` (CSV
and Parquet) and Spark `local[2]` get the same scores, or are refused alike with one sentence.

The champion is a tiny real bundle that also learned from two export columns beyond the contract
("Lead Origin", "TotalVisits"), logged to a SQLite MLflow registry, as a mapped export's model is.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from features.text_rules import (
    ACTIVITIES_RULE,
    ACTIVITY_RULE,
    ATTRIBUTES_RULE,
    NUL_RULE,
    NUMBER_RULE,
    TEXT_RULE,
    TOO_LONG_RULE,
)
from features.timestamps import TIMESTAMP_RULE
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from tests.serving.conftest import AUTH, sqlite_uri
from tests.serving.model_factory import log_bundle
from tests.serving.server import leadscore_command, server_env, start_server
from tests.training.made_up import train_attribute_bundle
from training.batch_score import score_file

pytestmark = pytest.mark.integration
AS_OF = "2026-10-01T00:00:00Z"
DEMO = {"activity_type": "demo_request", "occurred_at": "2026-09-29T10:00:00Z"}
ANSWERS = ("score", "fit_score", "intent_score", "grade", "is_mql")


def _lead(lead_id: str, **fields) -> dict:
    return {"lead_id": lead_id, "title": "VP Marketing", "company_size": "201-1000",
            "country": "US", "source": "webinar", "activities": [DEMO], "as_of": AS_OF,
            **fields}


ACCEPTED = [
    _lead("nested", attributes={"Lead Origin": "Landing Page Submission", "TotalVisits": 4}),
    # a mapped column at the lead's top level, as a file's column: read, never ignored
    _lead("flat", **{"Lead Origin": "Landing Page Submission", "TotalVisits": 4}),
    _lead("nested-wins", attributes={"Lead Origin": "API"},
          **{"Lead Origin": "Landing Page Submission"}),
    _lead("unix-seconds", as_of="1790812800",
          activities=[{"activity_type": "demo_request", "occurred_at": "1790762400"}]),
    _lead("date-only", as_of="2026-10-01", activities=[
        {"activity_type": "Trade Show Visit", "occurred_at": "2026-09-20"}]),
    _lead("offset", as_of="2026-10-01T02:00:00+02:00"),
    _lead("empty-strings", title="", company_size="", country="", source="",
          created_at="", mql_at=""),
    _lead("nulls", title=None, company_size=None, country=None, activities=None,
          attributes=None),
    _lead("number-as-text", company_size="250", **{"TotalVisits": "7"}),
    _lead("number-placeholder", **{"TotalVisits": "N/A"}),  # a form's "no answer": unknown
    _lead("number-written", attributes={"TotalVisits": "1,200"}),
    _lead("unknown-categories", title="Chief Vibes Officer", country="Atlantis",
          source="carrier pigeon", **{"Lead Origin": "Walk-in"}),
    _lead("unicode", title="Directeur Général ✨", country="Česko", campaign="春のキャンペーン"),
    _lead("longest-text", title="VP " + "x" * 997, campaign="y" * 1000),
    _lead("extra-fields", first_name="Zephyrine", hs_object_id="123", lead_score="99"),
]

REFUSED = [
    (_lead("compact-date", as_of="20261001"), "as_of", TIMESTAMP_RULE),
    (_lead("year-1999", activities=[{"activity_type": "demo_request",
                                     "occurred_at": "1999-09-29"}]),
     "activities[0].occurred_at", TIMESTAMP_RULE),
    (_lead("iso-week", created_at="2026-W40-1"), "created_at", TIMESTAMP_RULE),
    (_lead("too-long", title="x" * 1001), "title", TOO_LONG_RULE),
    (_lead("nul", campaign="q4\x00"), "campaign", NUL_RULE),
    (_lead("flat-nul", **{"Lead Origin": "API\x00"}), "Lead Origin", NUL_RULE),
    # text that is no number where the model learned a number: never scored as if blank
    (_lead("no-number", **{"TotalVisits": "lots"}), "TotalVisits", NUMBER_RULE),
    (_lead("no-number-nested", attributes={"TotalVisits": "lots"}), "attributes.TotalVisits",
     NUMBER_RULE),
    # a file's JSON column that is not what the API takes: refused, never read as none
    (_lead("attributes-list", attributes=["Landing Page Submission"]), "attributes",
     ATTRIBUTES_RULE),
    (_lead("activities-object", activities={"demo_request": "2026-09-29"}), "activities",
     ACTIVITIES_RULE),
    (_lead("activity-text", activities=["demo_request"]), "activities[0]", ACTIVITY_RULE),
]


@pytest.fixture(scope="module")
def champion(tmp_path_factory) -> tuple[str, Path]:
    work = tmp_path_factory.mktemp("contract")
    bundle_dir = train_attribute_bundle().save(work / "bundle")
    uri = sqlite_uri(work / "mlruns")
    log_bundle(Path(bundle_dir), uri)
    return uri, Path(bundle_dir)


@pytest.fixture(scope="module")
def served(champion, tmp_path_factory) -> Iterator[str]:
    """A real `leadscore serve` on the champion: its URL."""
    uri, _ = champion
    running = start_server(server_env(uri), tmp_path_factory.mktemp("serve") / "serve.log",
                           command=leadscore_command)
    try:
        yield running.url
    finally:
        running.stop()


def _api(url: str, leads: list[dict]) -> httpx.Response:
    return httpx.post(f"{url}/score", json={"leads": leads}, headers=AUTH, timeout=60)


def _file_rows(leads: list[dict]) -> pd.DataFrame:
    """The leads as a file's rows: every value text, activities and attributes as JSON."""
    rows = [{k: json.dumps(v) if isinstance(v, list | dict) else None if v is None else str(v)
             for k, v in lead.items()} for lead in leads]
    frame = pd.DataFrame(rows)
    return frame.astype(object).where(frame.notna(), None)


def _batch(leads: list[dict], bundle_dir: Path, folder: Path, suffix: str) -> pd.DataFrame:
    source, out = folder / f"leads{suffix}", folder / f"scores{suffix}"
    frame = _file_rows(leads)
    frame.to_csv(source, index=False) if suffix == ".csv" else frame.to_parquet(source)
    score_file(source, out, default_config(), str(bundle_dir), workers=1)
    read = pd.read_csv(out, dtype={"lead_id": str}) if suffix == ".csv" else pd.read_parquet(out)
    return read.set_index("lead_id")


def test_the_same_leads_score_the_same_over_http_and_in_files(served, champion, tmp_path):
    response = _api(served, ACCEPTED)
    assert response.status_code == 200, response.text
    api = pd.DataFrame(response.json()["scores"]).set_index("lead_id")
    for suffix in (".csv", ".parquet"):
        batch = _batch(ACCEPTED, champion[1], tmp_path, suffix)
        assert list(batch.index) == list(api.index)
        for column in ANSWERS:
            if column in ("grade", "is_mql"):
                assert batch[column].tolist() == api[column].tolist(), (suffix, column)
            else:  # the API rounds to 6 decimals
                assert (batch[column] - api[column]).abs().max() < 1e-6, (suffix, column)
        reasons = batch["reasons"].map(json.loads)
        for lead_id, listed in api["reasons"].items():
            assert [r["label"] for r in reasons[lead_id]] == [r["label"] for r in listed]
    # the mapped column was read where it was sent, and moved the score
    assert api.loc["flat", "score"] == api.loc["nested", "score"]
    assert api.loc["nested-wins", "score"] < api.loc["nested", "score"]


@pytest.mark.parametrize(("lead", "field", "rule"), REFUSED, ids=[r[0]["lead_id"] for r in REFUSED])
def test_a_lead_one_path_refuses_every_path_refuses_with_the_same_sentence(
        served, champion, tmp_path, lead, field, rule):
    response = _api(served, [lead])
    assert response.status_code == 422
    assert response.json()["error"] == f"leads[0].{field}: {rule}."
    out = tmp_path / "scores.csv"
    frame = _file_rows([lead])
    frame.to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(LeadscoreError) as info:
        score_file(tmp_path / "leads.csv", out, default_config(), str(champion[1]))
    assert str(info.value) == f"Row 1 (lead_id {lead['lead_id']}): {field}: {rule}."
    assert not out.exists()


@pytest.mark.parametrize("lead_id", ["", "   "])
def test_a_blank_lead_id_is_refused_by_both(served, champion, tmp_path, lead_id):
    from features.text_rules import LEAD_ID_RULE

    response = _api(served, [_lead(lead_id)])
    assert response.status_code == 422
    assert response.json()["error"] == f"leads[0].lead_id: {LEAD_ID_RULE}."
    for live in ("/events", "/outcomes"):  # the live loop's ids follow the same rule
        body = ({"leads": [_lead(lead_id)]} if live == "/events" else {"outcomes": [
            {"lead_id": lead_id, "stage": "sql", "occurred_at": AS_OF}]})
        stored = httpx.post(f"{served}{live}", json=body, headers=AUTH, timeout=60)
        assert stored.status_code == 422 and "lead_id: is empty" in stored.json()["error"]
    pd.DataFrame([{"lead_id": lead_id, "title": "VP"}]).to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(LeadscoreError) as info:
        score_file(tmp_path / "leads.parquet", tmp_path / "s.csv", default_config(),
                   str(champion[1]))
    assert str(info.value) == f"Row 1: lead_id: {LEAD_ID_RULE}."


def test_a_contract_field_that_is_no_text_is_refused_by_both(served, champion, tmp_path):
    lead = _lead("boolean-title", title=True)
    response = _api(served, [lead])
    assert response.json()["error"] == f"leads[0].title: {TEXT_RULE}."
    pd.DataFrame([{**lead, "activities": None}]).to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(LeadscoreError, match=rf"^Row 1 \(lead_id boolean-title\): title: "
                                             rf"{TEXT_RULE}\.$"):
        score_file(tmp_path / "leads.parquet", tmp_path / "s.csv", default_config(),
                   str(champion[1]))


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime for Spark")
def test_spark_gives_the_files_scores_and_refuses_alike(champion, tmp_path):
    from training.spark_score import score_file_spark, spark_session

    spark = spark_session("local[2]")
    try:
        now = datetime(2026, 10, 1, tzinfo=UTC)
        source = tmp_path / "leads.parquet"
        _file_rows(ACCEPTED).to_parquet(source)
        score_file_spark(source, tmp_path / "spark.parquet", default_config(),
                         str(champion[1]), now=now)
        got = pd.read_parquet(tmp_path / "spark.parquet").set_index("lead_id")
        local = _batch(ACCEPTED, champion[1], tmp_path, ".parquet")
        pd.testing.assert_frame_equal(got.loc[local.index, list(ANSWERS)],
                                      local[list(ANSWERS)], check_dtype=False)
        for lead, field, rule in (REFUSED[0], next(r for r in REFUSED
                                                    if r[0]["lead_id"] == "no-number")):
            _file_rows([lead]).to_parquet(source)
            with pytest.raises(LeadscoreError) as info:
                score_file_spark(source, tmp_path / "bad.parquet", default_config(),
                                 str(champion[1]), now=now)
            assert str(info.value) == (f"Spark could not score the leads: Lead "
                                       f"{lead['lead_id']}: {field}: {rule}.")
            assert not (tmp_path / "bad.parquet").exists()
        _file_rows([_lead("near-miss")]).rename(columns={"title": "Title"}).to_parquet(source)
        with pytest.raises(LeadscoreError, match=r"^leads\.parquet: column Title: not a field "
                                                 r"of a lead: name it `title`"):
            score_file_spark(source, tmp_path / "bad.parquet", default_config(),
                             str(champion[1]), now=now)
    finally:
        spark.stop()


def test_a_mapped_column_at_the_top_level_of_an_event_is_stored_as_its_attribute(served):
    fields = {"created_at": "2026-09-01T00:00:00Z", "title": "VP Marketing", "country": "US"}
    leads = [{"lead_id": "ev-flat", **fields, "Lead Origin": "Landing Page Submission"},
             {"lead_id": "ev-nested", **fields,
              "attributes": {"Lead Origin": "Landing Page Submission"}},
             {"lead_id": "ev-none", **fields}]
    stored = httpx.post(f"{served}/events", json={"leads": leads}, headers=AUTH, timeout=60)
    assert stored.status_code == 200, stored.text
    response = _api(served, [{"lead_id": lead["lead_id"], "as_of": AS_OF} for lead in leads])
    flat, nested, none = (s["score"] for s in response.json()["scores"])
    assert flat == nested != none
    refused = httpx.post(f"{served}/events", json={"leads": [
        {"lead_id": "ev-bad", "Lead Origin": {"nested": "object"}}]}, headers=AUTH, timeout=60)
    assert refused.status_code == 422
    assert refused.json()["field"] == "leads[0].Lead Origin"
    # a numeric column is stored only as a number, as ingest stores it and scoring reads it
    for lead, field in (({"TotalVisits": "lots"}, "TotalVisits"),
                        ({"attributes": {"TotalVisits": "lots"}}, "attributes.TotalVisits")):
        refused = httpx.post(f"{served}/events", json={"leads": [{"lead_id": "ev-n", **lead}]},
                             headers=AUTH, timeout=60)
        assert refused.status_code == 422
        assert refused.json()["error"] == f"leads[0].{field}: {NUMBER_RULE}."


@pytest.mark.parametrize(("given", "meant"), [("Title", "title"), ("Company Size", "company_size"),
                                              ("lead_origin", "Lead Origin"),
                                              ("Job Title", "title"),  # a CRM's name for it
                                              ("NumberOfEmployees", "company_size")])
def test_a_near_miss_of_a_field_is_refused_by_both_not_ignored(served, champion, tmp_path,
                                                               given, meant):
    from features.lead_fields import misnamed_rule

    lead = {k: v for k, v in _lead("near-miss").items() if k != meant}
    lead[given] = "VP Marketing" if meant == "title" else "201-1000"
    response = _api(served, [lead])
    assert response.status_code == 422
    assert response.json() == {**response.json(),
                               "error": f"leads[0].{given}: {misnamed_rule(meant)}.",
                               "field": f"leads[0].{given}"}
    _file_rows([lead]).to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(LeadscoreError) as info:
        score_file(tmp_path / "leads.csv", tmp_path / "s.csv", default_config(), str(champion[1]))
    assert str(info.value) == (f"leads.csv: column {given}: {misnamed_rule(meant)}; rename the "
                               "column, or score the CRM's own export through the mapping it "
                               "was ingested with (--mapping M.yaml), and re-run.")
    # beside the exact name, the other spelling is only noise, as any unknown field
    both = {**_lead("both"), meant: lead.get(given), given: "x"}
    assert _api(served, [both]).status_code == 200


def test_a_stored_numeric_attribute_that_is_no_number_is_said_to_be_stored(champion):
    """Stored before the API refused it (or under a champion that did not learn the column): a
    lead scored by id is refused with a sentence that does not ask for what it never sent."""
    import os

    from features.live_store import LiveStore
    from tests.serving.conftest import API_KEY, _asgi_client

    clients = _asgi_client(champion[0], API_KEY)
    api = next(clients)
    try:
        store = LiveStore(os.environ["LEADSCORE_LIVE_URL"])
        store.write(leads=[{"lead_id": "stored-lots", "attributes": {"TotalVisits": "lots"}}])
        store.close()
        response = api.post("/score", headers=AUTH, json={"lead_id": "stored-lots", "as_of": AS_OF})
        assert response.status_code == 422
        assert response.json()["field"] == "leads[0]"
        assert response.json()["error"].startswith(
            "leads[0]: its stored TotalVisits is text that reads as no number")
        sent = api.post("/score", headers=AUTH, json={"lead_id": "stored-lots", "as_of": AS_OF,
                                                      "attributes": {"TotalVisits": 5}})
        assert sent.status_code == 200, sent.text
    finally:
        clients.close()
