"""A declared export date: `leadscore ingest --exported-at` and the mapping's `exported_at:` key.

Real ingests into real DuckDB stores of tiny inline exports: the date lands in the store and
becomes its horizon, moves forward and never back, and a bad date is one sentence with nothing
written.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from features.horizon import DECLARED, LAST_RECORD, data_horizon
from features.ingest import ingest_paths
from features.store import connect
from leadscore.errors import LeadscoreError

LEADS = """\
lead_id,created_at,source,title,company_size,industry,country
a,2024-01-03T10:00:00Z,web,,,,
b,2024-01-20T10:00:00Z,web,,,,
"""
OUTCOMES = """\
lead_id,stage,occurred_at
a,sql,2024-01-10T09:00:00Z
"""
FLAT = """\
Lead Number,Lead Source,Converted
1,Google,1
2,Direct,0
3,Google,0
"""
MAPPING = """\
name: tiny-crm
version: 1
created_at: {from_order: Lead Number, start: "2020-01-01", end: "2020-01-31"}
exported_at: "2020-03-01"
columns:
  Lead Number: id
  Lead Source: {role: fit, kind: categorical, as: source}
  Converted: {role: outcome, after_days: 2, values: {"1": closed_won, "0": none}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def export(tmp_path) -> Path:
    folder = tmp_path / "export"
    write(folder / "leads.csv", LEADS)
    write(folder / "outcomes.csv", OUTCOMES)
    return folder


def horizon_of(store: Path):
    with connect(store, read_only=True) as con:
        return data_horizon(con)


def test_the_flag_is_stored_and_becomes_the_horizon(export, tmp_path):
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store, exported_at="2024-03-01")
    horizon = horizon_of(store)
    assert horizon.source == DECLARED and horizon.declared == date(2024, 3, 1)
    # an older export's date, ingested later, does not pull it back; a newer one moves it on
    report = ingest_paths([export], store, exported_at="2024-02-01")
    assert any("keeps its later declared export date 2024-03-01" in n for n in report.notes)
    assert horizon_of(store).declared == date(2024, 3, 1)
    ingest_paths([export], store, exported_at=date(2024, 4, 2))
    assert horizon_of(store).declared == date(2024, 4, 2)


def test_without_a_date_the_horizon_is_the_last_record(export, tmp_path):
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store)
    horizon = horizon_of(store)
    assert horizon.source == LAST_RECORD and horizon.runs_to == date(2024, 1, 20)


def test_the_mapping_key_is_read_and_the_flag_overrides_it(tmp_path):
    csv = write(tmp_path / "export.csv", FLAT)
    mapping = write(tmp_path / "tiny.yaml", MAPPING)
    store = tmp_path / "store.duckdb"
    ingest_paths([csv], store, mapping=mapping)
    assert horizon_of(store).declared == date(2020, 3, 1)
    other = tmp_path / "other.duckdb"
    ingest_paths([csv], other, mapping=mapping, exported_at="2020-02-15")
    assert horizon_of(other).declared == date(2020, 2, 15)


@pytest.mark.parametrize(("value", "expected"), [
    ("1 March", "--exported-at '1 March' is not a date: give the day the export was taken as "
                "YYYY-MM-DD, like 2026-10-01."),
    ("2999-01-01", "--exported-at 2999-01-01 is after today"),
    # the export records lead b on 2024-01-20: it cannot have been taken before that
    ("2024-01-19", "The export is declared taken on 2024-01-19, but it records something on "
                   "2024-01-20: give the day it was actually taken"),
])
def test_a_bad_date_is_one_sentence_and_writes_nothing(export, tmp_path, value, expected):
    store = tmp_path / "store.duckdb"
    with pytest.raises(LeadscoreError) as info:
        ingest_paths([export], store, exported_at=value)
    assert str(info.value).startswith(expected) and str(info.value).count(". ") == 0
    assert not store.exists()
    # on a store that exists, nothing of the batch lands
    ingest_paths([export], store, exported_at="2024-03-01")
    with pytest.raises(LeadscoreError):
        ingest_paths([export], store, exported_at=value)
    assert horizon_of(store).declared == date(2024, 3, 1)


def test_a_bad_date_in_the_mapping_names_the_file(tmp_path):
    csv = write(tmp_path / "export.csv", FLAT)
    mapping = write(tmp_path / "tiny.yaml", MAPPING.replace('"2020-03-01"', "soon"))
    with pytest.raises(LeadscoreError, match=r"^Mapping .*tiny\.yaml: exported_at 'soon' is not "
                                             r"a date: give the day"):
        ingest_paths([csv], tmp_path / "store.duckdb", mapping=mapping)


def test_the_command_line_flag(export, tmp_path):
    store = tmp_path / "store.duckdb"
    runner = CliRunner()
    bad = runner.invoke(cli, ["ingest", str(export), "--store", str(store),
                              "--exported-at", "yesterday"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    assert "--exported-at 'yesterday' is not a date" in bad.output and not store.exists()
    good = runner.invoke(cli, ["ingest", str(export), "--store", str(store),
                               "--exported-at", "2024-03-01"])
    assert good.exit_code == 0, good.output
    assert "export date 2024-03-01 declared" in good.output
    assert horizon_of(store).declared == date(2024, 3, 1)
