"""Property-based tests of the CSV loader (hypothesis): random complaint files built from random
unicode, quotes, commas, line breaks, NaN/inf/huge/tiny numbers, very long text, control
characters and mixed time zones.

Whatever the file: no exception but InputError (and that one line); every row number is used
once, from 1 up, never more than the file's physical lines; every rejection has a reason. For
files a CSV writer wrote, and for well-formed rows with stray quotes, every row's id is found
again among the accepted or rejected rows, and no kept row holds another row's text.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TINY
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError

HEADER, (GOOD, _) = TINY["complaints"][0], TINY["complaints"][1]
NCOLS = len(HEADER)
MARKER = re.compile(r"R\d{4}")
# a few seconds per test; NETDIAG_HYPOTHESIS_EXAMPLES=5000 for a long hunt
BOUNDED = settings(max_examples=int(os.environ.get("NETDIAG_HYPOTHESIS_EXAMPLES", "60")), deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NUMBERS = st.sampled_from(["NaN", "nan", "inf", "-inf", "1e999", "-1e-320", "5e-324", "1.7976931348623157e308", "-0",
                           "53.35", "+53.35", " 53.35 ", "1,5", "１２", "0x1F", "1_000"])
TIMES = st.sampled_from(["2026-11-02T13:00:00Z", "2026-11-02T21:00:00+08:00", "2026-11-02T07:30:00-05:30",
                         "2026-11-02 13:00", "2026-03-29T01:30:00", "9999-12-31T23:59:59Z", "2026-02-30T10:00:00Z",
                         "2026-11-02T13:00:00+14:00", "1677-01-01T00:00:00Z", "yesterday"])
SPECIAL = st.sampled_from(['"', '""', ",", "\n", "\r\n", "\r", '"\n', "\x00", "\ufeff", "\x1b[31m", "\u202e", "=1+1",
                           " ", "", "\t", '="001"'])
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)
LONG = st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "福", ",", "\n", '"']), st.integers(1_000, 5_000))
JUNK = st.one_of(TEXT, NUMBERS, TIMES, SPECIAL, st.lists(st.one_of(TEXT, SPECIAL), max_size=5).map("".join))


def cell(i: int):
    """A value for column ``i``: often the good one (so that some rows are accepted), else junk;
    very long text in the description."""
    good = "" if GOOD[i] is None else str(GOOD[i])
    return st.one_of(st.just(good), st.just(good), JUNK, *([LONG] if HEADER[i] == "description" else []))


def rows_strategy(max_rows: int = 12):
    row = st.tuples(*[cell(i) for i in range(1, NCOLS)])
    return st.lists(row, min_size=0, max_size=max_rows).map(lambda rows: [[f"R{n:04d}", *r] for n, r in enumerate(rows, 1)])


def load(text: str, *, bom: bool = False):
    """Load a data directory whose complaints.csv is ``text``: (dataset or None, the error text)."""
    with tempfile.TemporaryDirectory(prefix="netdiag-prop-") as tmp:
        folder = Path(tmp)
        (folder / "complaints.csv").write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8", "surrogatepass"))
        try:
            return load_dataset(folder, tables=("complaints",)), ""
        except InputError as exc:
            message = str(exc)
            assert "\n" not in message and message, message
            return None, message


def physical_rows(text: str) -> int:
    """Non-empty physical lines after the header: no file can have more rows than that."""
    return sum(1 for line in re.split(r"\r\n|\r|\n", text)[1:] if line != "")


def outcome(ds):
    kept = ds["complaints"]
    rej = ds.rejected[ds.rejected["table"] == "complaints"]
    return kept, rej


def check_accounting(ds, text: str) -> list[int]:
    kept, rej = outcome(ds)
    rows = kept["_row"].tolist() + rej["row"].tolist()
    assert len(rows) == len(set(rows)), "a row number is used twice"
    assert sorted(rows) == list(range(1, len(rows) + 1)), "row numbers are not 1..N"
    assert len(rows) <= physical_rows(text)
    assert rej["reason"].astype(str).str.len().gt(0).all()
    stats = ds.stats.set_index("table").loc["complaints"]
    assert stats["read"] == stats["accepted"] + stats["rejected"] == len(rows)
    return rows


def check_ids_and_no_leak(ds, markers: list[str]) -> None:
    kept, rej = outcome(ds)
    ids = [str(i) for i in list(kept["complaint_id"]) + list(rej["id"])]
    seen = {found[0] for found in map(MARKER.findall, ids) if found}  # an id may hold what a stray quote left
    missing = [m for m in markers if m not in seen]
    assert not missing, f"rows lost without a word: {missing}"
    texts = kept.drop(columns=["complaint_id"]).astype(str)
    for own, (_, row) in zip(kept["complaint_id"], texts.iterrows()):
        others = {m for value in row for m in MARKER.findall(str(value))} - set(MARKER.findall(str(own)))
        assert not others & set(markers), f"kept row {own} holds the text of {others}"


def to_csv(rows: list[list[str]], terminator: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=terminator)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf.getvalue()


@BOUNDED
@given(rows=rows_strategy(), terminator=st.sampled_from(["\n", "\r\n", "\r"]), bom=st.booleans())
def test_any_file_a_csv_writer_wrote_is_read_row_for_row(rows, terminator, bom):
    text = to_csv(rows, terminator)
    ds, error = load(text, bom=bom)
    assert ds is not None, error  # a well-quoted file is always readable
    got = check_accounting(ds, text)
    assert len(got) >= len(rows)
    check_ids_and_no_leak(ds, [r[0] for r in rows])


# well-formed rows (no comma or line break inside a value) with quotes that open and never close
PLAIN = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=',"\r\n'), max_size=12)


@st.composite
def stray_quote_file(draw):
    n = draw(st.integers(1, 12))
    markers = [f"R{i:04d}" for i in range(1, n + 1)]
    rows = [[f"R{i:04d}"] + [draw(st.one_of(st.just("" if GOOD[c] is None else str(GOOD[c])), PLAIN))
                              for c in range(1, NCOLS)] for i in range(1, n + 1)]
    for _ in range(draw(st.integers(1, 4))):  # quotes at the start of a field: Arrow reads on from there
        r, c = draw(st.integers(0, n - 1)), draw(st.integers(0, NCOLS - 1))
        rows[r][c] = '"' + rows[r][c] + draw(st.sampled_from(["", '"', 'x"y']))
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    for _ in range(draw(st.integers(0, 2))):  # blank lines are no rows
        lines.insert(draw(st.integers(1, len(lines))), "")
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return end.join(lines) + draw(st.sampled_from(["", end])), markers


@BOUNDED
@given(case=stray_quote_file())
def test_stray_quotes_never_lose_a_row_or_leak_its_text(case):
    text, markers = case
    ds, error = load(text)
    assert ds is not None, error
    check_accounting(ds, text)
    check_ids_and_no_leak(ds, markers)


@BOUNDED
@given(cells=st.lists(st.lists(st.one_of(JUNK, st.just("R0001")), min_size=0, max_size=NCOLS + 2), max_size=10),
       header=st.one_of(st.just(",".join(HEADER)), st.lists(st.one_of(TEXT, SPECIAL, st.sampled_from(HEADER)), max_size=14)
                        .map(",".join)),
       terminator=st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_text_at_all_is_read_or_refused_in_one_line(cells, header, terminator):
    text = terminator.join([header] + [",".join(r) for r in cells])
    ds, _ = load(text)
    if ds is not None:
        check_accounting(ds, text)
