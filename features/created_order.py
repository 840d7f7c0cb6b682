"""created_at for an export without timestamps (``created_at: {from_order: ...}``).

The leads are spread over the export's period [start, end] in the order of a column (or the
file's row order). Spread evenly by rank, a row's date is only as right as the export is even
over time: a bank's call list holds three quarters of its calls in the first of its three years,
so an even spread dates most calls of 2008 in 2009. Where a column names each row's month (the
UCI bank export's ``month``: may, jun, ...), ``month: COLUMN`` spreads the rows within the month
they name: in the rows' order the year turns wherever the month goes back (dec, then mar), so
months without a row (jan, feb) cost nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable

import duckdb

from features.ingest_sql import literal, printable
from features.mapping import CreatedFromOrder
from features.messages import counted
from leadscore.errors import LeadscoreError

MONTH_NAMES = {name: number for number in range(1, 13)
               for name in (calendar.month_abbr[number].lower(),
                            calendar.month_name[number].lower())} | {"sept": 9}
"""A month as an export writes it (English, any case): 'may', 'Sep', 'September'; also 1-12."""


def month_number_sql(expr: str) -> str:
    """The month ``expr`` names, 1-12, or NULL where it names none."""
    names = " ".join(f"WHEN {literal(name)} THEN {number}"
                     for name, number in MONTH_NAMES.items())
    number = f"TRY_CAST(trim({expr}) AS INTEGER)"
    return (f"CASE lower(trim({expr})) {names} ELSE CASE WHEN {number} BETWEEN 1 AND 12 "
            f"THEN {number} END END")


def created_sql(order: CreatedFromOrder, view: str, col: Callable[[str], str],
                lead_id: str) -> str:
    """``view``'s rows plus ``__created_at`` (ISO 8601 text) as ``order`` dates them."""
    value = col(order.column)
    ranked = (f"SELECT *, dense_rank() OVER (ORDER BY {value} IS NULL, "
              f"TRY_CAST({value} AS DOUBLE), {value}, {lead_id}) AS __order FROM {view}")
    start = f"CAST({literal(order.start.isoformat(sep=' '))} AS TIMESTAMP)"
    if order.month is None:
        # dense_rank: a row repeated whole gets its lead's one time, so it collapses as a duplicate
        span_us = int((order.end - order.start).total_seconds() * 1_000_000)
        counted_rows = (f"SELECT *, max(CASE WHEN {value} IS NOT NULL THEN __order END) "
                        f"OVER () AS __count FROM ({ranked})")
        created = (f"CASE WHEN {value} IS NOT NULL THEN strftime({start} + "
                   f"to_microseconds(CAST(round((__order - 1) * {span_us} / "
                   "greatest(__count - 1, 1)) AS BIGINT)), '%Y-%m-%dT%H:%M:%S') END")
        return f"SELECT *, {created} AS __created_at FROM ({counted_rows})"
    end = f"CAST({literal(order.end.isoformat(sep=' '))} AS TIMESTAMP) + INTERVAL 1 DAY"
    monthed = f"SELECT *, {month_number_sql(col(order.month))} AS __month FROM ({ranked})"
    turned = (f"SELECT *, CASE WHEN __month < lag(__month) OVER (ORDER BY __order) THEN 1 "
              f"ELSE 0 END AS __turn FROM ({monthed})")
    yeared = (f"SELECT *, make_timestamp(CAST({order.start.year} + sum(__turn) OVER "
              "(ORDER BY __order) AS BIGINT), coalesce(__month, 1), 1, 0, 0, 0) AS __month_at "
              f"FROM ({turned})")
    # each month's rows spread evenly over the part of it inside [start, end]
    bounded = (f"SELECT *, greatest(__month_at, {start}) AS __lo, "
               f"least(__month_at + INTERVAL 1 MONTH, {end}) AS __hi, dense_rank() OVER "
               f"(PARTITION BY __month_at ORDER BY __order) AS __in_month FROM ({yeared})")
    counted_rows = (f"SELECT *, max(__in_month) OVER (PARTITION BY __month_at) AS __in_count "
                    f"FROM ({bounded})")
    created = (f"CASE WHEN {value} IS NOT NULL AND __month IS NOT NULL AND __hi > __lo THEN "
               "strftime(__lo + to_microseconds(CAST((__in_month - 1) * (epoch_us(__hi) - "
               "epoch_us(__lo)) / __in_count AS BIGINT)), '%Y-%m-%dT%H:%M:%S') END")
    return f"SELECT *, {created} AS __created_at FROM ({counted_rows})"


def check_months(con: duckdb.DuckDBPyConnection, order: CreatedFromOrder, base: str,
                 col: Callable[[str], str], file_name: str) -> None:
    """Refuse, in one sentence, rows whose month reads as none, or months outside [start, end].

    Raises:
        LeadscoreError: naming the column, the rows' values (capped) or the months, and the fix.
    """
    if order.month is None:
        return
    value, month = col(order.column), col(order.month)
    unread = con.execute(f"SELECT {month}, count(*) FROM {base} WHERE {value} IS NOT NULL AND "
                         "__month IS NULL GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    if unread:
        shown = counted([(printable(v) if v is not None else "blank", n) for v, n in unread])
        raise LeadscoreError(
            f"{file_name}: created_at.month reads each row's month from {order.month!r}, but "
            f"some rows name no month (jan..dec, january..december or 1-12): {shown}; fix those "
            "rows, or drop month: to spread the rows evenly over start..end, and re-run.")
    first, last, turns = con.execute(
        f"SELECT min(__month_at), max(__month_at), sum(__turn) FROM {base} "
        f"WHERE {value} IS NOT NULL").fetchone()
    if first is None:
        return
    start, end = order.start, order.end
    if (first.year, first.month) < (start.year, start.month):
        raise LeadscoreError(
            f"{file_name}: the first rows name {calendar.month_name[first.month]}, which comes "
            f"before created_at.start {start.date()} in its year; set start to a day of the "
            "month the first rows name (the year the export begins) and re-run.")
    if (last.year, last.month) > (end.year, end.month):
        raise LeadscoreError(
            f"{file_name}: read in order, {order.month!r} {_turns(int(turns or 0))}, so the "
            f"last rows fall in {last:%Y-%m}, after created_at.end {end.date()}; check that the "
            "rows are oldest first and that start and end are the export's period, and re-run.")


def _turns(turns: int) -> str:
    """How often the month column goes back, in words."""
    if turns == 0:
        return "never goes back"
    return "goes back once" if turns == 1 else f"goes back {turns} times"


def created_note(order: CreatedFromOrder, file_name: str) -> str:
    """What ingest assumed for the leads' creation times, for its report."""
    by = "the file's row order" if order.column == "row number" else f"the order of {order.column}"
    within = f", each within the month {order.month} names" if order.month else ""
    return (f"{file_name}: no creation date: leads dated by the mapping, spread over "
            f"{order.start.date()}..{order.end.date()} in {by}{within}")
