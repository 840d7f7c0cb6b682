"""File shapes as users save them: UTF-16 text (Excel's "Unicode Text"), JSON documents, a
totals row under the data. Tiny inline files, read by ``leadscore inspect`` and ingest alike."""

from __future__ import annotations

import codecs
from pathlib import Path

import duckdb
import pytest

from features.export_files import discover
from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError

LEADS = "lead_id,created_at,source,title,company_size,industry,country\n" + "".join(
    f"L{i},2026-03-{1 + i % 28:02d},{['Web', 'Zoë Partner'][i % 2]},VP Sales,50,Retail,France\n"
    for i in range(30))


def _drafted(tmp_path: Path, found) -> Path:
    out = tmp_path / "mapping.yaml"
    out.write_text(draft(found), encoding="utf-8")
    return out


def _stored(store: Path) -> list[tuple]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT lead_id, source FROM leads ORDER BY lead_id").fetchall()


def test_a_utf16_file_is_read_by_its_byte_order_mark(tmp_path):
    # read as UTF-8, then cp1252, every other byte was a NUL: inspect said its last line had
    # fewer values than the header (not true), and ingest called it not UTF-8
    export = tmp_path / "export"
    export.mkdir()
    (export / "leads.csv").write_text(LEADS, encoding="utf-16")
    ingest_paths([export], tmp_path / "plain.duckdb")
    rows = _stored(tmp_path / "plain.duckdb")
    assert len(rows) == 30 and ("L1", "Zoë Partner") in rows
    tabbed = tmp_path / "tabbed"
    tabbed.mkdir()
    (tabbed / "leads.tsv").write_bytes(codecs.BOM_UTF16_BE
                                      + LEADS.replace(",", "\t").encode("utf-16-be"))
    found = inspect([tabbed])
    assert found.main.read == "delimiter '\\t' (sniffed), encoding utf-16"
    ingest_paths([tabbed], tmp_path / "v2.duckdb", mapping=_drafted(tmp_path, found))
    assert _stored(tmp_path / "v2.duckdb") == rows


def test_a_txt_file_is_told_how_to_be_read(tmp_path):
    path = tmp_path / "leads.txt"
    path.write_text(LEADS.replace(",", "\t"), encoding="utf-16")
    with pytest.raises(LeadscoreError, match=r"Unicode Text.*rename it to \.tsv"):
        discover([path])
