"""Batch scoring's input and output, in chunks: memory stays bounded whatever the file's size.

Leads are read ``size`` rows at a time from CSV (every value as text; the delimiter is sniffed,
as ingest does: comma, semicolon, tab or pipe, and an Excel ``sep=`` line is honoured), Parquet,
or an Excel workbook's first sheet (.xlsx/.xlsm, read whole: a sheet holds at most about a
million rows, and empty cells are missing values, as in a CSV file). Their
activities come from the leads file's own ``activities`` JSON column, or, for the usual "rescore
everything" case, are joined by ``lead_id`` from an activities file (the contract's activities
table, CSV or Parquet) or from the store's ``activities`` table: DuckDB groups them per lead
into the same JSON list and streams the joined rows in the leads file's order, spilling to disk
rather than holding them all.

Output chunks are appended to a temporary file beside the output, renamed over it only when the
last chunk is written: a failed run leaves nothing half-written.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.csv_lines import ROW, excel_sep
from features.export_files import sniff_delimiter
from features.read_workbook import read_workbook
from leadscore.errors import LeadscoreError

FORMATS = (".csv", ".parquet")
"""What scores are written to, and what an activities file may be."""
WORKBOOKS = (".xlsx", ".xlsm")
INPUTS = (*FORMATS, *WORKBOOKS)
"""What a leads file may be."""
JOIN_MEMORY = "1GB"
"""DuckDB's memory for the activities join; it spills to the temporary folder beyond it."""
STORE = "store"
"""``--activities store``: join the activities held in the DuckDB store."""


def check_input(path: Path, formats: tuple[str, ...] = INPUTS) -> Path:
    """The leads file, checked to exist and to be one of ``formats`` (CSV, Parquet or .xlsx).

    Raises:
        LeadscoreError: when the file is missing or of another format.
    """
    path = Path(path)
    names = ("CSV or Parquet" if set(formats) <= set(FORMATS) else
             "CSV, Parquet or Excel (.xlsx)")
    if not path.is_file():
        raise LeadscoreError(f"No file at {path}: give a {names} file of leads.")
    if path.suffix.lower() not in formats:
        raise LeadscoreError(f"{path} is not a {names} file: export the leads as one of them.")
    return path


def _dialect(path: Path) -> dict:
    """pandas' read options for a CSV leads file: its sniffed delimiter, past a ``sep=`` line."""
    return {"sep": sniff_delimiter(path), "skiprows": 1 if excel_sep(path) else 0}


def _workbook(path: Path) -> pd.DataFrame:
    """The first sheet of a workbook as text, an empty cell missing (as pandas reads CSV).

    A sheet is parsed whole, so the header check and the rows share one read of the file (not
    one each), until the file changes."""
    stat = path.stat()
    return _parsed_workbook(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _parsed_workbook(path: str, _mtime_ns: int, _size: int) -> pd.DataFrame:
    frame = read_workbook(Path(path))[0].drop_columns([ROW]).to_pandas().astype(object)
    return frame.where(frame != "", None)


def input_columns(path: Path) -> list[str]:
    """The column names of a leads file (its header), read without its rows.

    Raises:
        LeadscoreError: when the file cannot be read.
    """
    try:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return [str(c) for c in pd.read_csv(path, dtype=str, nrows=0,
                                                **_dialect(path)).columns]
        if suffix in WORKBOOKS:
            return [str(c) for c in _workbook(path).columns]
        return list(pq.read_schema(path).names)
    except (ValueError, OSError, pa.ArrowException, pd.errors.ParserError) as exc:
        raise _unreadable(path, exc) from None


def repeated_ids(path: Path) -> tuple[int, frozenset[str]]:
    """The rows of a leads file that repeat an earlier row's ``lead_id``, and those ids.

    Raises:
        LeadscoreError: two rows give one lead id different values, as ingest refuses them
            (scoring either would put two scores of one lead in the output and the score log).
    """
    con = duckdb.connect(config={"temp_directory": tempfile.gettempdir(),
                                 "memory_limit": JOIN_MEMORY})
    try:
        rows = f"(SELECT *, row_number() OVER () AS __row FROM {_leads_source(con, path)})"
        found = con.execute(f"SELECT CAST(lead_id AS VARCHAR), count(*) - 1 FROM {rows} "
                            "WHERE lead_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1").fetchall()
        if not found:
            return 0, frozenset()
        ids = frozenset(str(i) for i, _ in found)
        con.execute("CREATE TEMP TABLE __ids (id VARCHAR)")
        con.executemany("INSERT INTO __ids VALUES (?)", [[i] for i in ids])
        values = ", ".join('"' + r[0].replace('"', '""') + '"' for r in
                           con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall()
                           if r[0] != "__row")
        clash = con.execute(
            f"SELECT id, list(__row ORDER BY __row)[1:2] FROM (SELECT CAST(lead_id AS VARCHAR) "
            f"AS id, min(__row) AS __row FROM {rows} WHERE CAST(lead_id AS VARCHAR) IN "
            f"(SELECT id FROM __ids) GROUP BY {values}) GROUP BY id "
            "HAVING count(*) > 1 ORDER BY min(__row) LIMIT 1").fetchone()
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from None
    finally:
        con.close()
    if clash is not None:
        raise different_values(path.name, clash[0], clash[1])
    return sum(n for _, n in found), ids


def different_values(name: str, lead_id: str, rows: list[int] | None) -> LeadscoreError:
    """The refusal of rows that give one lead id different values, as ingest refuses them, on
    every engine; ``rows``: the file's rows (counted from 1), or None where the rows have no
    order to name (a cluster's input)."""
    which = f"rows {', '.join(str(r) for r in rows)}" if rows else "two rows"
    return LeadscoreError(f"{name}: {which} give lead_id {lead_id} different values; keep one "
                          "row per lead_id and re-run.")


def first_rows(chunks: Iterator[pd.DataFrame], ids: frozenset[str]) -> Iterator[pd.DataFrame]:
    """``chunks`` without the rows that repeat an earlier row of a lead id in ``ids``."""
    seen: set[str] = set()
    for chunk in chunks:
        if ids:
            keys = chunk["lead_id"].astype(str)
            again = keys.isin(ids) & (keys.isin(seen) | keys.duplicated())
            seen.update(keys[keys.isin(ids)])
            chunk = chunk[~again.to_numpy()].reset_index(drop=True)
        yield chunk


def count_rows(path: Path) -> int | None:
    """Rows in a leads file, for the progress bar (None when it cannot be told cheaply)."""
    if path.suffix.lower() in WORKBOOKS:
        return None
    try:
        if path.suffix.lower() == ".parquet":
            return pq.ParquetFile(path).metadata.num_rows
        with open(path, "rb") as handle:
            lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))
        return max(lines - 1, 0)  # the header; quoted line breaks make this an estimate
    except OSError:
        return None


def _unreadable(path: Path, exc: Exception) -> LeadscoreError:
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return LeadscoreError(f"Cannot read {path} ({first}): check that it is a valid file.")


def lead_chunks(path: Path, size: int, activities: str | Path | None = None,
                store: Path | None = None) -> Iterator[pd.DataFrame]:
    """The leads of ``path`` in chunks of ``size`` rows, in file order.

    Args:
        path: CSV, Parquet or .xlsx leads file.
        size: rows per chunk.
        activities: None to read the ``activities`` column of the leads file; ``"store"`` to join
            the store's activities; or an activities file (CSV or Parquet).
        store: the DuckDB store (for ``activities="store"``).

    Raises:
        LeadscoreError: when a file is unreadable or lacks the columns the join needs.
    """
    path = check_input(path)
    if activities is None:
        yield from _plain_chunks(path, size)
    else:
        yield from _joined_chunks(path, size, activities, store)


def _plain_chunks(path: Path, size: int) -> Iterator[pd.DataFrame]:
    try:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            reader = pd.read_csv(path, dtype=str, keep_default_na=True, chunksize=size,
                                 **_dialect(path))
        elif suffix in WORKBOOKS:
            frame = _workbook(path)
            reader = (frame.iloc[i:i + size].copy() for i in range(0, max(len(frame), 1), size))
        else:
            reader = (_frame(b) for b in pq.ParquetFile(path).iter_batches(batch_size=size))
        yield from reader
    except (ValueError, OSError, pa.ArrowException, pd.errors.ParserError) as exc:
        raise _unreadable(path, exc) from None


def _frame(batch: pa.RecordBatch) -> pd.DataFrame:
    """A batch as pandas, text as plain Python strings: reading rows out of Arrow-backed text
    columns costs three times as much, and every lead is read out as a record."""
    frame = batch.to_pandas()
    text = {column: object for column, dtype in frame.dtypes.items()
            if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)}
    return frame.astype(text) if text else frame


def _scan(path: Path) -> str:
    quoted = "'" + str(path).replace("'", "''") + "'"
    if path.suffix.lower() == ".csv":
        dialect = _dialect(path)
        delim = dialect["sep"].replace("'", "''")
        return (f"read_csv({quoted}, header = true, all_varchar = true, delim = '{delim}', "
                f"skip = {dialect['skiprows']})")
    return f"read_parquet({quoted})"


def _leads_source(con, path: Path) -> str:
    """The leads file as a DuckDB relation: a workbook's sheet is registered, read whole."""
    if path.suffix.lower() not in WORKBOOKS:
        return _scan(path)
    con.register("workbook_leads", pa.Table.from_pandas(_workbook(path), preserve_index=False))
    return "workbook_leads"


def _activities_source(con, activities: str | Path, store: Path | None) -> str:
    if str(activities) == STORE:
        if store is None or not Path(store).is_file():
            raise LeadscoreError(
                f"No store at {store}: run `leadscore ingest` first, or give an activities file."
            )
        con.execute(f"ATTACH '{str(store).replace(chr(39), chr(39) * 2)}' AS history "
                    "(READ_ONLY)")
        return "history.activities"
    source = Path(activities)
    if not source.is_file() or source.suffix.lower() not in FORMATS:
        raise LeadscoreError(
            f"No activities file at {source}: give a CSV or Parquet activities table, or `store`."
        )
    columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_scan(source)}").fetchall()}
    missing = sorted({"lead_id", "occurred_at", "activity_type"} - columns)
    if missing:
        raise LeadscoreError(
            f"{source} lacks the column(s) {', '.join(missing)}: an activities table has "
            "lead_id, occurred_at and activity_type."
        )
    return _scan(source)


def _joined_chunks(path: Path, size: int, activities: str | Path,
                   store: Path | None) -> Iterator[pd.DataFrame]:
    # the join sorts back into file order; past the limit DuckDB spills to disk instead
    con = duckdb.connect(config={"temp_directory": tempfile.gettempdir(),
                                 "memory_limit": JOIN_MEMORY, "preserve_insertion_order": True})
    try:
        try:
            source = _activities_source(con, activities, store)
            leads = _leads_source(con, path)
            lead_columns = [row[0] for row in
                            con.execute(f"DESCRIBE SELECT * FROM {leads}").fetchall()]
        except duckdb.Error as exc:
            raise _unreadable(path, exc) from None
        if "lead_id" not in lead_columns:
            raise LeadscoreError(f"{path} has no lead_id column: the join needs one.")
        keep = ", ".join(f'l."{c}"' for c in lead_columns if c != "activities")
        # one JSON list per lead, oldest first; leads without activities get none (NULL)
        sql = f"""
            WITH leads AS (SELECT *, row_number() OVER () AS _row FROM {leads}),
            grouped AS (
                SELECT CAST(lead_id AS VARCHAR) AS lead_id,
                       to_json(list({{'activity_type': CAST(activity_type AS VARCHAR),
                                      'occurred_at': CAST(occurred_at AS VARCHAR)}}
                                    ORDER BY occurred_at)) AS activities
                FROM {source}
                WHERE CAST(lead_id AS VARCHAR) IN (SELECT CAST(lead_id AS VARCHAR) FROM leads)
                GROUP BY 1)
            SELECT {keep}, CAST(a.activities AS VARCHAR) AS activities
            FROM leads l LEFT JOIN grouped a ON CAST(l.lead_id AS VARCHAR) = a.lead_id
            ORDER BY l._row
        """
        try:
            reader = con.sql(sql).to_arrow_reader(size)
            for batch in reader:
                yield _frame(batch)
        except duckdb.Error as exc:
            raise _unreadable(path, exc) from None
    finally:
        con.close()


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class ChunkWriter:
    """Appends scored chunks to ``output`` (CSV or Parquet by suffix), atomically at close."""

    def __init__(self, output: Path) -> None:
        self.output = Path(output)
        if self.output.suffix.lower() not in FORMATS:
            raise LeadscoreError(f"--out {self.output} must end in .csv or .parquet.")
        if self.output.is_dir():  # the final move would fail after every lead was scored
            raise LeadscoreError(f"--out {self.output} is a folder (a Spark output?): give a "
                                 "file path, or remove the folder, and re-run.")
        self.output.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{self.output.name}.", dir=self.output.parent)
        # mkstemp's file is 0600, and the rename keeps it: give it the mode any file written
        # here gets (0644 under the usual umask), as export-scores' and the reports' files have
        os.fchmod(handle, 0o666 & ~_umask())
        os.close(handle)
        self._tmp = Path(name)
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.output.suffix.lower() == ".csv":
            frame.to_csv(self._tmp, mode="a", header=self._rows == 0, index=False)
        else:
            table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
            if self._parquet is None:
                self._schema = table.schema
                self._parquet = pq.ParquetWriter(self._tmp, self._schema)
            self._parquet.write_table(table)
        self._rows += len(frame)

    def commit(self, empty: pd.DataFrame) -> None:
        """Finish the file and move it into place (``empty`` gives the columns of no rows)."""
        if self._rows == 0:
            self.write(empty)
        if self._parquet is not None:
            self._parquet.close()
        os.replace(self._tmp, self.output)

    def abort(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self._tmp.unlink(missing_ok=True)

