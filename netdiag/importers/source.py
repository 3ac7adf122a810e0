"""Reading an export: CSV in any of the usual encodings, or an Excel workbook, as text columns.

Every reader gives frames of text (``""`` for an empty cell) with a ``_row`` column, the
1-based data row number in the source (the rejection format's ``row``), and lists the rows it
could not read at all in ``attrs["unreadable"]`` as ``(row, id, code, reason)``.

- CSV: UTF-8 (with or without BOM), UTF-16 and GB18030/GBK are found from the first megabyte
  (or named in the profile); every physical record is accounted for by
  :func:`netdiag.data.csv_reader.read_csv`. :func:`read_chunks` streams a large CSV in pieces of
  ``chunk_rows`` lines (one line per record, as PM exports are).
- ``.xlsx``: the first sheet or the one named; header cells merged over several columns or
  rows (``天线参数`` above ``方位角 | 下倾角``) are spread over the cells they cover, and a
  column is known both by its field (``方位角``) and by ``group/field``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
from itertools import islice
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from netdiag.data.csv_reader import ROW, UNREADABLE
from netdiag.errors import InputError

log = logging.getLogger(__name__)

EXCEL = (".xlsx", ".xlsm")
#: attrs key: for each column, the names it may be called by (the field, then ``group/field``)
ALIASES = "aliases"


def check_source(path: str | Path) -> Path:
    """The export's path, or a clear error when it is not a readable file of a known format."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"`source` {str(path)!r}: no such file")
    if not path.is_file():
        raise InputError(f"`source` {str(path)!r} is not a regular file")
    if path.suffix.lower() == ".xls":
        raise InputError(f"`source` {path.name}: the old Excel format .xls is not read; save it as .xlsx or CSV")
    return path


def read_table(path: Path, *, encoding: str = "auto", sheet: str | None = None, header_rows: int = 0,
               key: str | None = None, wanted: set | None = None) -> pd.DataFrame:
    """The whole export as one text frame (see the module docstring).

    ``wanted`` (normalised headers the profile knows) finds the header row of a workbook whose
    header does not start on the first row; ``header_rows`` (> 1) reads that many header rows of
    a CSV file (groups above fields).
    """
    if path.suffix.lower() in EXCEL:
        return _read_xlsx(path, sheet=sheet, header_rows=header_rows, wanted=wanted)
    if sheet:
        raise InputError(f"`sheet` was given but {path.name} is not an Excel workbook (.xlsx)")
    if encoding == "auto" and header_rows <= 1:
        from netdiag.data.csv_reader import read_csv

        frame = read_csv(path, key=key)
        frame.attrs[ALIASES] = {c: [c] for c in frame.columns if c != ROW}
        return _as_text(frame)
    pieces = list(read_chunks(path, encoding=encoding, header_rows=header_rows))
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()
    frame.attrs = pieces[0].attrs if pieces else {UNREADABLE: [], ALIASES: {}}
    frame.attrs[UNREADABLE] = [u for p in pieces for u in p.attrs[UNREADABLE]]
    return frame


def read_chunks(path: Path, *, encoding: str = "auto", sheet: str | None = None, header_rows: int = 0,
                chunk_rows: int = 200_000, wanted: set | None = None) -> Iterator[pd.DataFrame]:
    """The export in frames of at most ``chunk_rows`` rows (a workbook is read whole, then cut)."""
    if path.suffix.lower() in EXCEL:
        frame = _read_xlsx(path, sheet=sheet, header_rows=header_rows, wanted=wanted)
        for start in range(0, max(len(frame), 1), chunk_rows):
            part = frame.iloc[start:start + chunk_rows].reset_index(drop=True)
            part.attrs = {UNREADABLE: frame.attrs[UNREADABLE] if start == 0 else [], ALIASES: frame.attrs[ALIASES]}
            yield part
        return
    if sheet:
        raise InputError(f"`sheet` was given but {path.name} is not an Excel workbook (.xlsx)")
    yield from _csv_chunks(path, encoding, chunk_rows, max(header_rows, 1))


def _csv_chunks(path: Path, encoding: str, chunk_rows: int, header_rows: int = 1) -> Iterator[pd.DataFrame]:
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from netdiag.data.csv_reader import _encoding  # the same detection as every other CSV netdiag reads

    py_enc = _encoding(path, path.name)[0] if encoding == "auto" else encoding
    with _lines(path, py_enc) as fh:
        head = []
        for _ in range(header_rows):
            line = fh.readline()
            try:
                text = line if isinstance(line, str) else line.decode(py_enc)
                head.append([h.strip() for h in next(csv.reader([text.lstrip("\ufeff")]), [])])
            except UnicodeDecodeError:
                raise InputError(f"cannot read the header of {path.name} as {py_enc}") from None
        if not head or not any(head[-1]):
            raise InputError(f"{path.name}: the first line is empty; expected a header row with column names")
        width = max(len(h) for h in head)
        for h in head[:-1]:  # a group title stands over the empty cells to its right
            for i in range(1, len(h)):
                h[i] = h[i] or h[i - 1]
        header, aliases = header_names([h + [""] * (width - len(h)) for h in head])
        if header_rows == 1:
            header = [h or f"column {i + 1}" for i, h in enumerate(head[0])]
            aliases = {h: [h] for h in header}
        fields = [f"f{i}" for i in range(len(header))]
        done = 0
        while True:
            lines = list(islice(fh, chunk_rows))
            if not lines:
                break
            unreadable, texts = [], []
            for i, raw in enumerate(lines):  # decoding is per line so that one bad line costs only itself
                if isinstance(raw, str):  # UTF-16: decoded before it was cut into lines
                    texts.append(raw)
                    continue
                try:
                    texts.append(raw.decode(py_enc))
                except UnicodeDecodeError:
                    unreadable.append((done + i + 1, "", "encoding", f"not {py_enc} text"))
                    texts.append("\n")
            bad: list = []

            def on_bad(row, bad=bad):
                bad.append(row)
                return "skip"
            data = "".join(t if t.endswith("\n") else t + "\n" for t in texts).encode("utf-8")
            table = pacsv.read_csv(io.BytesIO(data), read_options=pacsv.ReadOptions(
                column_names=fields, use_threads=False, autogenerate_column_names=False),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad, ignore_empty_lines=False),
                convert_options=pacsv.ConvertOptions(column_types={f: pa.string() for f in fields},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
            rows = np.arange(done + 1, done + len(lines) + 1)
            bad_numbers = {r.number for r in bad}
            keep = np.array([n not in bad_numbers for n in range(1, len(lines) + 1)], dtype=bool)
            for r in bad:
                unreadable.append((done + r.number, "", "malformed row",
                                   f"malformed row: {r.actual_columns} fields, the header has {len(fields)}"))
            frame = table.to_pandas()
            frame.columns = header
            frame.insert(0, ROW, rows[keep][:len(frame)])
            encoded_bad = {u[0] for u in unreadable if u[2] == "encoding"}
            if encoded_bad:
                frame = frame[~frame[ROW].isin(encoded_bad)].reset_index(drop=True)
            frame.attrs = {UNREADABLE: unreadable, ALIASES: aliases}
            done += len(lines)
            yield frame


@contextlib.contextmanager
def _lines(path: Path, encoding: str):
    """The file as lines: bytes (decoded one by one later, so that a bad line costs only itself),
    or text for UTF-16, whose line ends cannot be found in the raw bytes."""
    if encoding.lower().replace("-", "").replace("_", "").startswith("utf16"):
        with open(path, encoding=encoding, errors="replace", newline="") as fh:
            yield fh
    else:
        with open(path, "rb") as fh:
            yield fh


def header_names(head: list[list]) -> tuple[list[str], dict]:
    """Column names from header rows (groups above fields): each column is named by its field
    (the lowest non-empty cell), or ``group/field`` where the field alone is taken; ``aliases``
    gives both."""
    names, aliases = [], {}
    width = max((len(r) for r in head), default=0)
    for c in range(width):
        parts = []
        for r in head:
            text = "" if c >= len(r) or r[c] is None else str(r[c]).strip()
            if text and text not in parts:
                parts.append(text)
        field = parts[-1] if parts else f"column {c + 1}"
        name = field if field not in names else "/".join(parts)
        if name in names:
            name = f"{name} ({c + 1})"
        names.append(name)
        aliases[name] = [field, "/".join(parts)]
    return names, aliases


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if col != ROW:
            out[col] = out[col].fillna("").astype(str)
    out.attrs = frame.attrs
    return out


def _read_xlsx(path: Path, *, sheet: str | None, header_rows: int, wanted: set | None = None) -> pd.DataFrame:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - an install without the dependency
        raise InputError("reading .xlsx needs openpyxl (pip install 'openpyxl>=3.1,<4')") from None
    try:
        book = openpyxl.load_workbook(path, data_only=True)  # not read-only: merged cells are only known so
    except Exception as exc:  # a damaged or mislabelled file: openpyxl raises many kinds
        raise InputError(f"cannot read {path.name} as an Excel workbook: {type(exc).__name__}: {str(exc)[:200]}") from None
    if sheet:
        if sheet not in book.sheetnames:
            raise InputError(f"`sheet` was {sheet!r} but {path.name} has the sheets {', '.join(book.sheetnames)}")
        ws = book[sheet]
    else:
        ws = book.worksheets[0]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    if not values:
        raise InputError(f"{path.name}, sheet {ws.title!r}, is empty: expected a header row with column names")
    width = max(len(r) for r in values)
    values = [r + [None] * (width - len(r)) for r in values]
    merged = [m for m in ws.merged_cells.ranges]
    for m in merged:  # a merged cell's value stands in every cell it covers: header groups, and
        top = values[m.min_row - 1][m.min_col - 1]  # 站号/经度/纬度 merged down over a site's rows
        for r in range(m.min_row, min(m.max_row, len(values)) + 1):
            for c in range(m.min_col, min(m.max_col, width) + 1):
                values[r - 1][c - 1] = top
    start = 1
    if not header_rows:
        start, header_rows = _find_header(values, merged, width, wanted or set())
    head = values[start - 1:header_rows]
    names, aliases = header_names(head)
    body = values[header_rows:]
    frame = pd.DataFrame(body, columns=names, dtype=object) if body else pd.DataFrame(columns=names, dtype=object)
    for col in names:
        frame[col] = _cells_as_text(frame[col])
    frame.insert(0, ROW, np.arange(1, len(frame) + 1))
    frame.attrs = {UNREADABLE: [], ALIASES: aliases}
    log.info("%s: sheet %r, header rows %d..%d, %d data rows", path.name, ws.title, start, header_rows, len(frame))
    return frame


def _find_header(values: list, merged: list, width: int, wanted: set) -> tuple[int, int]:
    """(first, last) 1-based header rows of a sheet.

    The last header row is the one, among the first 30, whose cells match most of the profile's
    headers (``wanted``, normalised); rows above it belong to the header while they hold group
    titles (two or more different texts, merged over some but not all columns); a title merged
    over the whole width, or a lone text, is not a header and is skipped.
    """
    from netdiag.importers.profile import norm_header

    def score(row):
        return sum(1 for v in row if v is not None and norm_header(v) in wanted)
    scores = [score(r) for r in values[:30]]
    if not wanted or max(scores, default=0) == 0:
        last = 1  # nothing to go by: the first row, with the rows merged down from it
        for m in merged:
            if m.min_row == 1:
                last = max(last, m.max_row, 2 if m.max_col > m.min_col and m.max_row == 1 else 1)
        return 1, last
    last = scores.index(max(scores)) + 1
    first = last
    while first > 1:
        above = first - 1
        texts = {str(v).strip() for v in values[above - 1] if v is not None and str(v).strip()}
        grouped = any(m.min_row <= above <= m.max_row and (m.max_col - m.min_col + 1) < width for m in merged)
        if len(texts) < 2 or not grouped:
            break
        first = above
    return first, last


def _cells_as_text(col: pd.Series) -> pd.Series:
    """Excel cell values as the text a person sees: dates as ISO text, whole numbers without ``.0``."""
    def one(v):
        if v is None:
            return ""
        if isinstance(v, dt.datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return str(v).strip()
    return col.map(one).astype(object)
