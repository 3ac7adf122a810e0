"""A stray quote must not swallow rows: a field whose quote runs on over the rows after it is
rejected with a reason, the rows it swallowed keep their own numbers and are read again or
reported, and none of their text (phone numbers included) reaches a kept row."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from conftest import TINY, write_dataset
from netdiag.data.dataset import load_dataset

HEADER = TINY["complaints"][0]
COL = {name: i for i, name in enumerate(HEADER)}


def complaint_lines(n: int) -> list[str]:
    """``n`` good complaint rows as CSV lines, ``K001``... with phone number ``1380000NNNN``."""
    rows = []
    for i in range(1, n + 1):
        row = list(TINY["complaints"][1][0])
        row[COL["complaint_id"]], row[COL["customer_id"]], row[COL["description"]] = f"K{i:03d}", f"1380000{i:04d}", f"desc {i}"
        rows.append(row)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().splitlines()


def with_complaints(folder: Path, lines: list[str]) -> Path:
    write_dataset(folder)
    (folder / "complaints.csv").write_text("\n".join([",".join(HEADER)] + lines) + "\n", encoding="utf-8")
    return folder


def complaint_outcome(ds):
    kept = ds["complaints"].set_index("complaint_id")["_row"].to_dict()
    rej = ds.rejected[ds.rejected["table"] == "complaints"]
    return kept, rej.set_index("row")


def assert_every_row_once(ds, n: int) -> None:
    kept, rej = complaint_outcome(ds)
    rows = sorted(list(kept.values()) + list(rej.index))
    assert rows == list(range(1, n + 1))
    assert rej["reason"].str.len().gt(0).all()
    stats = ds.stats.set_index("table").loc["complaints"]
    assert stats["read"] == stats["accepted"] + stats["rejected"] == n


def test_stray_quote_closed_by_a_later_quote_reports_the_row_and_reads_the_swallowed_rows_again(tmp_path):
    lines = complaint_lines(8)
    lines[1] = lines[1].replace("desc 2", '"desc 2')  # row 2: a quote that opens and never closes
    lines[5] = lines[5].replace("desc 6", '"desc, 6"')  # row 6: a quoted field whose quote closes row 2's
    ds = load_dataset(with_complaints(tmp_path, lines))
    kept, rej = complaint_outcome(ds)
    assert rej.loc[2, "id"] == "K002"
    assert rej.loc[2, "reason"] == ("unbalanced quote in description: the field runs over 5 lines and swallowed rows 3-6; "
                                    "those rows were read again on their own")
    assert kept == {f"K{i:03d}": i for i in (1, 3, 4, 5, 6, 7, 8)}
    assert ds["complaints"].set_index("complaint_id").loc["K006", "description"] == "desc, 6"
    assert_every_row_once(ds, 8)


@pytest.mark.parametrize("column", ["description", "channel", "complaint_id"])
def test_stray_quote_that_never_closes_swallows_nothing_silently(tmp_path, column):
    lines = complaint_lines(6)
    row = next(csv.reader([lines[2]]))
    row[COL[column]] = '"' + row[COL[column]]
    lines[2] = ",".join(row)  # row 3, unescaped: the quote runs to the end of the file
    ds = load_dataset(with_complaints(tmp_path, lines))
    kept, rej = complaint_outcome(ds)
    assert rej.loc[3, "reason"].startswith(f"unbalanced quote in {column}: the field runs over 4 lines and swallowed rows 4-6")
    assert rej.loc[3, "id"] == "K003"
    assert kept == {"K001": 1, "K002": 2, "K004": 4, "K005": 5, "K006": 6}
    assert_every_row_once(ds, 6)


def test_a_row_cut_by_the_closing_quote_is_reported_with_its_own_number(tmp_path):
    lines = complaint_lines(6)
    lines[1] = lines[1].replace("hotline", '"hotline')  # row 2: the quote opens channel ...
    lines[4] = lines[4].replace("hotline", '"app"')  # ... and row 5's quoted channel closes it mid-row
    ds = load_dataset(with_complaints(tmp_path, lines))
    kept, rej = complaint_outcome(ds)
    assert rej.loc[2, "reason"] == ("unbalanced quote in channel: the field runs over 4 lines and swallowed rows 3-5; "
                                    "fix the quote and load again")
    assert rej.loc[5, "id"] == "K005"
    assert rej.loc[5, "reason"] == ("swallowed by the unbalanced quote in row 2 (its text went into that row's channel); "
                                    "fix the quote and load again")
    assert kept == {"K001": 1, "K003": 3, "K004": 4, "K006": 6}
    assert_every_row_once(ds, 6)


def test_no_swallowed_text_reaches_a_kept_row(tmp_path):
    lines = complaint_lines(6)
    lines[0] = lines[0].replace("desc 1", '"desc 1')
    lines[3] = lines[3].replace("desc 4", '"desc 4"')
    ds = load_dataset(with_complaints(tmp_path, lines))
    kept = ds["complaints"]
    for i in range(1, 7):
        phone = f"1380000{i:04d}"
        holders = kept.loc[kept.astype(str).apply(lambda col: col.str.contains(phone)).any(axis=1), "complaint_id"]
        assert set(holders) <= {f"K{i:03d}"}, (phone, set(holders))
    assert_every_row_once(ds, 6)


def test_legitimate_multi_line_values_stay_one_row(tmp_path):
    header, rows = TINY["complaints"]
    rows = [r[:] for r in rows]
    rows[0][COL["description"]] = "no signal at home,\nnor in the garden, since Monday\n\nsays \"urgent\""
    events_header, events = TINY["events"]
    events = [e[:] for e in events]
    events[0][-1] = "fibre cut\r\nsee OMC log, line 2"
    folder = write_dataset(tmp_path, {"complaints": (header, rows), "events": (events_header, events)})
    ds = load_dataset(folder)
    assert ds.rejected.empty, ds.rejected
    assert ds["complaints"]["_row"].tolist() == [1, 2]
    assert ds["complaints"].loc[0, "description"] == rows[0][COL["description"]]
    assert ds["events"]["_row"].tolist() == [1, 2, 3, 4]


def test_malformed_rows_after_a_multi_line_value_keep_true_numbers(tmp_path):
    lines = complaint_lines(4)
    lines[0] = lines[0].replace("desc 1", '"two\nlines"')
    lines.insert(2, "K999,broken")  # data row 3
    ds = load_dataset(with_complaints(tmp_path, lines))
    kept, rej = complaint_outcome(ds)
    assert kept == {"K001": 1, "K002": 2, "K003": 4, "K004": 5}
    assert rej.loc[3, "id"] == "K999"
    assert rej.loc[3, "reason"] == "row does not have the 12 fields of the header (it has 2; unbalanced quotes or commas?)"


def test_a_quoted_line_break_in_a_yes_no_value_is_one_row_not_a_broken_file(tmp_path):
    header, rows = TINY["complaints"]
    rows = [r[:] for r in rows]
    rows[0][COL["vip"]] = "\n"  # quoted by the CSV writer: one record whose vip is blank (read as not given)
    rows[1][COL["vip"]] = "yes\n,"
    ds = load_dataset(write_dataset(tmp_path, {"complaints": (header, rows)}))
    kept, rej = complaint_outcome(ds)
    assert kept == {"K001": 1}
    assert rej.loc[2, "reason"].startswith("unbalanced quote in vip: the field runs over 2 lines and swallowed row 3")
    assert_every_row_once(ds, 3)


def test_stray_quotes_on_consecutive_rows_lose_neither(tmp_path):
    lines = complaint_lines(4)
    lines[0] = lines[0].replace("hotline", '"hotline')  # the quote of row 1 runs to the first quote of row 2 ...
    lines[1] = '"' + lines[1]  # ... which is a stray quote of its own, before its id
    ds = load_dataset(with_complaints(tmp_path, lines))
    kept, rej = complaint_outcome(ds)
    assert rej.loc[1, "reason"].startswith("unbalanced quote in channel: the field runs over 2 lines and swallowed row 2")
    assert (rej.loc[2, "id"], rej.loc[2, "code"]) == ("K002", "swallowed row")
    assert kept == {"K003": 3, "K004": 4}
    assert_every_row_once(ds, 4)


def test_a_stray_quote_in_the_id_swallowing_one_row(tmp_path):
    lines = complaint_lines(4)
    lines[1] = '"' + lines[1]  # row 2: the quote opens the id ...
    lines[2] = '"' + lines[2].replace("K003,", 'K003",', 1)  # ... and row 3's quoted id closes it
    ds = load_dataset(with_complaints(tmp_path, lines))
    kept, rej = complaint_outcome(ds)
    assert rej.loc[2, ["id", "code"]].tolist() == ["K002", "unbalanced quote"]
    assert rej.loc[3, ["id", "code"]].tolist() == ["K003", "swallowed row"]
    assert kept == {"K001": 1, "K004": 4}
    assert_every_row_once(ds, 4)
