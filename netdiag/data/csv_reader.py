"""Reading one CSV file so that every physical record of it is accounted for.

A CSV from an operator's export is read as text columns by Arrow's multi-threaded reader, and
then checked against the file's own lines: a row with the wrong number of fields, a field whose
unbalanced quote swallowed the rows after it (those rows are read again on their own, or
reported by their own row numbers), and text that is not in the file's encoding are listed in
``attrs["unreadable"]`` as ``(row, id, code, reason)``; nothing is lost without a word. The
encoding is UTF-8 (with or without BOM), UTF-16 or GB18030, decided from the first megabyte.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from netdiag.errors import InputError

log = logging.getLogger(__name__)

ROW = "_row"
#: per row, what is wrong with its geometry (GeoJSON / GeoPackage); None when it is a usable point
GEOMETRY = "_geometry"
#: ``attrs`` key of the rows a reader could not use: a list of (row, id, code, reason)
UNREADABLE = "unreadable"
#: ``attrs`` key: (the first 20 column names as read, how many there were)
COLUMNS_READ = "columns_read"
BLOCK_SIZE = 1 << 24  # Arrow's CSV block; the largest header cell we accept
MALFORMED = "malformed row"
_BREAK = re.compile(r"\r\n|\r|\n")


def short(name: str, limit: int = 40) -> str:
    """A column name or value cut for a message (a header cell may be a megabyte long)."""
    return name if len(name) <= limit else name[:limit] + "..."


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return short(text.splitlines()[0], 300)


@contextmanager
def _csv_field_limit(limit: int):
    old = csv.field_size_limit()
    csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


SAMPLE = 1 << 20  # the bytes that decide a file's text encoding


def _encoding(path: Path, name: str) -> tuple[str, str]:
    """(Python's, Arrow's) name of a CSV file's text encoding, from its first megabyte.

    UTF-16 by its byte order mark (Excel's "Unicode text"); UTF-8 (with or without BOM); else
    GB18030 (Excel in China). A sample with valid UTF-8 text outside ASCII is UTF-8 even when
    some lines are not: a file of mixed encodings is read as UTF-8 and its other rows are
    reported one by one rather than all read wrong.
    """
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "utf-16"
    lines = sample.split(b"\n")
    if len(sample) == SAMPLE and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle of a character

    def utf8(line: bytes) -> bool:
        try:
            line.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    bad = [line for line in lines if not utf8(line)]
    if not bad or any(max(line, default=0) >= 0x80 and utf8(line) for line in lines):
        if bad:
            log.warning("%s mixes text encodings; rows that are not UTF-8 are rejected", name)
        return "utf-8-sig", "utf8"
    try:
        b"\n".join(lines).decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(f"cannot read {name}: it is neither UTF-8, UTF-16 nor GB18030 text") from None
    log.warning("%s is not UTF-8; read as GB18030", name)
    return "gb18030", "gb18030"


def _csv_header(path: Path, name: str) -> tuple[list[str], str]:
    """(column names, Arrow's name of the encoding); see :func:`_encoding`."""
    encoding, arrow_encoding = _encoding(path, name)
    try:
        with _csv_field_limit(BLOCK_SIZE), open(path, newline="", encoding=encoding, errors="replace") as fh:
            header = next(csv.reader(fh), None)
    except csv.Error as exc:
        raise InputError(f"cannot read the header of {name}: {exc}") from None
    if header is None:
        raise InputError(f"{name} is empty: expected a header row with column names")
    if not header:
        raise InputError(f"{name}: the first line is empty; expected a header row with column names")
    header = [h.lstrip("\ufeff") for h in header]
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header[0])
        raise InputError(f"{name}: the header is one column holding {sep!r} between names; netdiag reads "
                         f"comma-separated files (in Excel: save as 'CSV UTF-8 (comma delimited)')")
    long = next((h for h in header if _BREAK.search(h)), None)
    if long is not None:
        raise InputError(f"{name}: the header's column name {short(long)!r} runs over several lines "
                         f"(an unbalanced quote?); the column names must all be on the first line")
    return header, arrow_encoding


def read_csv(path: Path, *, wanted: set[str] | None = None, key: str | None = None,
              strict: set[str] = frozenset(), name: str | None = None) -> pd.DataFrame:
    """CSV as text columns, every physical row accounted for (see :func:`_account_rows`).

    UTF-8 (with or without BOM); falls back to GB18030 (Excel in China). Only the columns in
    ``wanted`` (compared without case and outer blanks; default all) are converted to pandas;
    ``key`` names the column whose value identifies a row in ``attrs["unreadable"]``; a value of a
    ``strict`` column (ids, numbers, times, ...) never holds a line break of its own.
    """
    name = name or path.name
    header, arrow_encoding = _csv_header(path, name)
    fields = [f"f{i}" for i in range(len(header))]  # by position: odd or repeated names cannot collide
    invalid: list[tuple[int, int, str]] = []

    def on_bad_row(row) -> str:
        try:
            text = row.text
        except Exception:  # text that is not UTF-8: reported without it
            text = ""
        invalid.append((row.number, row.actual_columns, text))
        return "skip"

    check_utf8 = True  # Arrow checks as it converts, in parallel; value by value only when that fails

    def read(threads: bool, block_size: int) -> pa.Table:
        invalid.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads, encoding=arrow_encoding, column_names=fields,
                                           skip_rows=1, block_size=block_size),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad_row),
            convert_options=_as_text(fields, check_utf8=check_utf8),
        )

    block, threads = BLOCK_SIZE, True
    while True:
        try:
            table = read(threads, block)
            break
        except pa.ArrowInvalid as exc:
            if "invalid UTF8" in str(exc) and check_utf8:
                check_utf8 = False  # some text is not UTF-8: read it all, then report those rows
            elif _only_header(path):
                table = pa.table({f: pa.array([], pa.string()) for f in fields})  # nothing after the header
                break
            elif ("straddl" in str(exc) or "Could not skip" in str(exc)) and threads:
                # a field or the header is longer than a block (an unbalanced quote running far?): one block
                block, threads = path.stat().st_size + 1, False
                if block >= 2**31 - 1:
                    raise InputError(f"cannot read {name}: a field runs over more than {BLOCK_SIZE >> 20} MB "
                                     f"(an unbalanced quote?)") from None
            else:
                raise
    if invalid and threads:
        table = read(False, block)  # the numbers of malformed rows are only known to a single-threaded read
    norm = [h.strip().lower() for h in header]
    key_index = norm.index(key) if key in norm else None
    never_multiline = {i for i, n in enumerate(norm) if n in strict}
    if not check_utf8:
        table = _mark_not_utf8(table)
    table, rows, unreadable = _account_rows(table, invalid, header, key_index, never_multiline)
    table, rows, unreadable = _reject_not_utf8(table, rows, unreadable, header, key_index)
    table = _without_row_bom(table)
    keep = [i for i, n in enumerate(norm) if wanted is None or n in wanted]
    frame = table.select(keep).to_pandas()
    frame.columns = [header[i] for i in keep]
    frame.insert(0, ROW, rows)
    frame.attrs[UNREADABLE] = unreadable
    frame.attrs[COLUMNS_READ] = ([short(h.strip().lower()) for h in header[:20]], len(header))
    return frame


def _without_row_bom(table: pa.Table) -> pa.Table:
    """A byte order mark at the start of a row (files joined together) is no part of its first value."""
    if table.num_columns == 0 or not _has_bytes(table.column(0), 0xEF):
        return table
    first = pc.utf8_ltrim(table.column(0), characters="\ufeff")
    return table.set_column(0, table.field(0), first)


def _only_header(path: Path) -> bool:
    """Whether nothing but line breaks and blanks follows the first line (Arrow calls that an error)."""
    with open(path, "rb") as fh:
        data = fh.read()
    first = re.search(rb"\r\n|\r|\n", data)
    return first is None or not data[first.end():].strip()


def _as_text(fields: list[str], *, check_utf8: bool = True) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(column_types={f: pa.string() for f in fields}, null_values=[""], check_utf8=check_utf8,
                                strings_can_be_null=True, quoted_strings_can_be_null=True)


# ----------------------------------------------------------------------------- text that is not UTF-8
NOT_UTF8 = "_not_utf8"  # a column added while reading: per row, the first column whose text is not UTF-8


def _mark_not_utf8(table: pa.Table) -> pa.Table:
    """Values that are not UTF-8 (a row pasted from another encoding) made readable, their rows marked.

    Called when Arrow's own check failed the file: each chunk is checked at once, value by value
    only in a chunk that fails, so that one such row is reported instead of the whole file.
    """
    if table.num_rows == 0:
        return table
    marks = np.full(table.num_rows, -1, dtype=np.int64)
    columns = []
    for j, column in enumerate(table.columns):
        chunks, start = [], 0
        for chunk in column.chunks:
            try:
                pc.cast(chunk.view(pa.binary()), pa.string())  # checks the UTF-8 of the whole chunk at once
                chunks.append(chunk)
            except pa.ArrowInvalid:
                values = chunk.view(pa.binary()).to_pylist()
                good = []
                for i, value in enumerate(values):
                    try:
                        good.append(None if value is None else value.decode("utf-8"))
                    except UnicodeDecodeError:  # kept readable (its line breaks tell of swallowed rows), but marked
                        good.append(value.decode("utf-8", errors="replace"))
                        if marks[start + i] < 0:
                            marks[start + i] = j
                chunks.append(pa.array(good, type=pa.string()))
            start += len(chunk)
        columns.append(pa.chunked_array(chunks, type=pa.string()))
    if (marks < 0).all():
        return table
    return pa.table(columns + [pa.array(marks)], names=table.column_names + [NOT_UTF8])


def _reject_not_utf8(table: pa.Table, rows: np.ndarray, unreadable: list, header: list[str],
                     key_index: int | None) -> tuple[pa.Table, np.ndarray, list]:
    """The rows marked by :func:`_mark_not_utf8` out of ``table``, into ``unreadable``."""
    if NOT_UTF8 not in table.column_names:
        return table, rows, unreadable
    marks = pc.fill_null(table.column(NOT_UTF8), -1).to_numpy()
    table = table.drop_columns([NOT_UTF8])
    bad = marks >= 0
    keys = (table.column(key_index).filter(pa.array(bad)).to_pylist() if key_index is not None
            else [None] * int(bad.sum()))
    for row, column, key in zip(rows[bad].tolist(), marks[bad].tolist(), keys):
        unreadable.append((row, short((key or "").strip(), 60), "not UTF-8",
                           f"{short(header[column].strip())} is not UTF-8 text (the file mixes text encodings; "
                           f"save it again as UTF-8)"))
    unreadable.sort()
    return table.filter(pa.array(~bad)), rows[~bad], unreadable


# ----------------------------------------------------------------------------- unbalanced quotes
# A quote that opens a field and is never closed where it should be makes Arrow read on across
# line breaks (a quoted field may hold them): the rows after it end up inside that field and
# would vanish without a word, their text (phone numbers included) in another row. Each record
# whose field holds line breaks is checked for rows of its own (see _swallowed); such a record
# is rejected, the rows it swallowed keep their own numbers and are read again on their own
# when their text is known exactly, else reported.

@dataclass
class _Swallow:
    record: int  # 1-based position of the damaged record among the records Arrow read
    column: int  # the field the unbalanced quote opened
    lines: int  # physical lines that field runs over
    texts: list  # per row it swallowed: the row's exact text, or None when the closing quote cut it
    ids: list  # per row it swallowed: its id, as far as it can be read
    id: str


_QUOTED = re.compile(r'[^"]*(?:""[^"]*)*')  # the inside of a quoted field, up to its closing quote
_UNQUOTED = re.compile(r'[^,\r\n]*')


def _swallowed(segments: list[str], column: int, ncols: int, strict: set[int]) -> bool:
    """Whether a field's lines hold rows of their own: the mark of an unbalanced quote.

    ``segments`` are the field's text split at its line breaks. Line breaks and commas in a
    column whose values never hold either (an id, a number, a time: ``strict``) are fields of
    other rows; a whole line inside the field with at least the header's number of fields is a
    row; so is the last line when, up to the quote that closed the field, it holds as many fields
    as came before the opening quote on the first line (that quote opened the same column of a
    later row).
    """
    if column in strict and any("," in s for s in segments):
        return True
    for line in segments[1:-1]:
        if (line.count(",") + 1 >= ncols) if ncols > 1 else line.strip():
            return True
    return column > 0 and segments[-1].count(",") >= column


def _quoted_field(text: str) -> tuple[int, str] | None:
    """(column, inside) of the first quoted field of a raw record ``text`` that holds a line break."""
    column, i, n, at_start = 0, 0, len(text), True
    while i < n:
        if at_start and text[i] == '"':
            m = _QUOTED.match(text, i + 1)
            if _BREAK.search(m.group(0)):
                return column, m.group(0).replace('""', '"')
            i, at_start = m.end() + 1, False
            continue
        i = _UNQUOTED.match(text, i).end()
        if i < n and text[i] == ",":
            column, at_start, i = column + 1, True, i + 1
        elif i < n:
            return None  # a line break outside quotes: not one record
    return None


def _field(line: str, index: int | None) -> str:
    """Field ``index`` of one CSV line, for a row's id in a message ("" when there is none)."""
    if index is None:
        return ""
    first = _BREAK.split(line, 1)[0]
    if not _balanced(first):  # a quote that never closes: the fields as a person sees them
        values = [v.strip('"') for v in first.split(",")]
    else:
        try:
            with _csv_field_limit(BLOCK_SIZE):
                values = next(csv.reader(io.StringIO(line)), [])
        except csv.Error:
            values = first.split(",")
    return short(values[index].strip(), 60) if index < len(values) else ""


def _width(line: str) -> int:
    """How many fields one CSV line holds, read on its own, or split at every comma if more."""
    try:
        with _csv_field_limit(BLOCK_SIZE):
            read = len(next(csv.reader(io.StringIO(line)), []))
    except csv.Error:
        read = 0
    return max(read, line.count(",") + 1)


def _cut_id(last: str, key_index: int | None, column: int) -> str:
    """The id of the row whose quote closed a field, from that field's last line (``last``).

    That line holds the row's fields up to its quote, plus the quoted value itself.
    """
    parts = last.split(",")
    if key_index is None or key_index > column or key_index >= len(parts):
        return ""
    return short(parts[key_index].strip().rstrip('"'), 60)


def _up_to_comma(text: str) -> str:
    """The id a person wrote before the stray quote ran on: the first line of the field up to a comma."""
    return short(text.split(",", 1)[0].strip(), 60)


def _has_bytes(column: pa.ChunkedArray, *values: int) -> bool:
    """Whether any value holds one of the bytes ``values``: a scan of the raw value bytes (milliseconds
    per million rows)."""
    low = min(values)
    for chunk in column.chunks:
        buffers = chunk.buffers()
        if len(chunk) == 0 or len(buffers) < 3 or buffers[2] is None:
            continue
        offsets = np.frombuffer(buffers[1], dtype=np.int32)
        lo, hi = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        data = np.frombuffer(buffers[2], dtype=np.uint8, count=hi - lo, offset=lo)
        if low > 127 or (data <= max(values)).any():  # a cheap first look for the control characters
            if np.isin(data, values).any():
                return True
    return False


def _has_break(column: pa.ChunkedArray) -> bool:
    """Whether any value holds a line break."""
    return _has_bytes(column, 10, 13)


def _valid_swallows(table: pa.Table, records: np.ndarray, ncols: int, key_index: int | None,
                    total: int, strict: set[int]) -> list[_Swallow]:
    """Damaged records among the rows Arrow read well (``records``: their positions among all records)."""
    found: dict[int, list[tuple[int, str]]] = {}
    for j in range(table.num_columns):
        column = table.column(j)
        if not _has_break(column):
            continue
        mask = pc.fill_null(pc.match_substring_regex(column, r"[\r\n]"), False)
        pos = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        for p, value in zip(pos.tolist(), column.take(pa.array(pos, type=pa.int64())).to_pylist()):
            found.setdefault(p, []).append((j, value))
    out = []
    for p in sorted(found):
        items = sorted(found[p])
        hit = next((item for item in items if _swallowed(_BREAK.split(item[1]), item[0], ncols, strict)), None)
        if hit is None:
            continue  # a quoted field with line breaks of its own: a legitimate multi-line value
        j, value = hit
        segments = _BREAK.split(value)
        texts: list = [s.replace('"', '""') for s in segments[1:-1] if s != ""]  # whole lines: exact
        # a last field never closed runs to the end of the file: its last line is whole too
        ran_to_end = records[p] == total and j == ncols - 1 and '"' not in value
        ids = [_field(text, key_index) for text in texts]
        if segments[-1] != "" or j < ncols - 1:
            texts.append(segments[-1] if ran_to_end else None)
            ids.append(_field(segments[-1], key_index) if ran_to_end else _cut_id(segments[-1], key_index, j))
        for other, text in items:
            if other != j:
                extra = sum(1 for s in _BREAK.split(text)[1:] if s != "")
                texts += [None] * extra
                ids += [""] * extra
        key = ("" if key_index is None or key_index > j else _up_to_comma(segments[0]) if key_index == j
               else table.column(key_index)[p].as_py() or "")
        lines = len(segments) - (ran_to_end and segments[-1] == "")  # the file's last line break ends no line
        out.append(_Swallow(int(records[p]), j, lines, texts, ids, short(key.strip(), 60)))
    return out


def _invalid_swallows(invalid: list[tuple[int, int, str]], records: np.ndarray, ncols: int,
                      key_index: int | None, strict: set[int]) -> list[_Swallow]:
    """Damaged records among the rows Arrow could not split into the header's fields.

    Their raw text is known, so besides the marks of :func:`_swallowed`, a line after the first
    that is a whole row on its own (the header's number of fields) tells of a swallowed row.
    """
    out = []
    for (_, _, text), record in zip(invalid, records.tolist()):
        if not _BREAK.search(text):
            continue
        quoted = _quoted_field(text)
        if quoted is None:
            continue
        column, inside = quoted[0], _BREAK.split(quoted[1])
        lines = [s for s in _BREAK.split(text)[1:] if s != ""]
        if not (_swallowed(inside, column, ncols, strict) or any(_width(line) >= ncols for line in lines)):
            continue
        # the damaged row's id: whole before the quote, the quote's first line at it, swallowed after it
        key = ("" if key_index is None or key_index > column else _up_to_comma(inside[0]) if key_index == column
               else _field(_BREAK.split(text, 1)[0], key_index))
        out.append(_Swallow(record, column, len(inside), lines, [_field(line, key_index) for line in lines], key))
    return out


def _rows_text(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _reread(lines: list[str], fields: list[str]) -> tuple[pa.Table, np.ndarray]:
    """Whole physical lines read again as rows of their own: (table, which lines gave a row)."""
    bad: list[int] = []

    def on_bad_row(row) -> str:
        bad.append(row.number)
        return "skip"

    data = "\n".join(lines).encode("utf-8")
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(use_threads=False, column_names=fields, block_size=max(len(data) + 1, 1 << 16)),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad_row), convert_options=_as_text(fields))
    ok = np.ones(len(lines), dtype=bool)
    ok[np.asarray(bad, dtype=np.int64) - 1] = False
    return table, ok


def _balanced(line: str) -> bool:
    """Whether every quoted field of one line closes on that line (so reading it alone cannot run on)."""
    if '"' not in line:
        return True
    i, n, at_start = 0, len(line), True
    while i < n:
        if at_start and line[i] == '"':
            end = _QUOTED.match(line, i + 1).end()
            if end >= n:
                return False
            i, at_start = end + 1, False
            continue
        i = _UNQUOTED.match(line, i).end()
        at_start = i < n and line[i] == ","
        i += 1
    return True


def _account_rows(table: pa.Table, invalid: list[tuple[int, int, str]], header: list[str],
                  key_index: int | None, strict: set[int] = frozenset()) -> tuple[pa.Table, np.ndarray, list[tuple]]:
    """Every physical row of a CSV file accounted for: (usable rows, their numbers, unreadable rows).

    ``table`` holds the records Arrow read well, ``invalid`` the others as (number, fields,
    text). Row numbers count records, except that each row swallowed by an unbalanced quote
    counts as the row it was written as, so the rows after it keep their true numbers.
    """
    ncols = len(header)
    n_valid = table.num_rows
    total = n_valid + len(invalid)
    inv = np.array([number - 1 for number, _, _ in invalid], dtype=np.int64)  # the header is line 1
    if len(inv) and (inv.min() < 1 or inv.max() > total or len(np.unique(inv)) < len(inv)):
        log.warning("the CSV reader gave no usable numbers for %d malformed rows; they are numbered last", len(inv))
        inv = np.arange(n_valid + 1, total + 1, dtype=np.int64)
    is_valid = np.ones(total + 1, dtype=bool)
    is_valid[0] = False
    is_valid[inv] = False
    valid = np.flatnonzero(is_valid)
    swallows = (_valid_swallows(table, valid, ncols, key_index, total, strict)
                + _invalid_swallows(invalid, inv, ncols, key_index, strict))
    if not swallows:
        unreadable = [(int(k), _field(text, key_index), MALFORMED, _malformed_reason(ncols, actual))
                      for (_, actual, text), k in zip(invalid, inv.tolist())]
        return table, valid.astype(np.int64), unreadable

    swallowed = np.zeros(total + 1, dtype=np.int64)
    for s in swallows:
        swallowed[s.record] = len(s.texts)
    number = np.arange(total + 1, dtype=np.int64) + np.cumsum(swallowed) - swallowed  # true row of each record
    damaged = {s.record for s in swallows}
    unreadable = [(int(number[k]), _field(text, key_index), MALFORMED, _malformed_reason(ncols, actual))
                  for (_, actual, text), k in zip(invalid, inv.tolist()) if k not in damaged]
    keep = ~np.isin(valid, list(damaged))
    parts, rows = [table.filter(pa.array(keep))], [number[valid[keep]]]

    again = [(int(number[s.record]) + i + 1, text) for s in swallows for i, text in enumerate(s.texts)
             if text and _balanced(text)]
    read_again: set[int] = set()
    if again:
        recovered, ok = _reread([text for _, text in again], table.column_names[:ncols])
        if table.num_columns > ncols:  # the mark of text that is not UTF-8 (see _mark_not_utf8)
            marks = np.full(recovered.num_rows, -1, dtype=np.int64)
            for j in reversed(range(ncols)):  # a swallowed row's text that was not UTF-8 is marked again
                hit = pc.fill_null(pc.match_substring(recovered.column(j), "\ufffd"), False).to_numpy(zero_copy_only=False)
                marks[hit] = j
            recovered = recovered.append_column(table.field(ncols), pa.array(marks))
        parts.append(recovered)
        rows.append(np.array([row for row, _ in again], dtype=np.int64)[ok])
        read_again = {row for (row, _), good in zip(again, ok) if good}
    for s in swallows:
        first = int(number[s.record])
        span = range(first + 1, first + 1 + len(s.texts))
        column = short(header[s.column].strip())
        if not span:
            fate = ""
        elif all(r in read_again for r in span):
            fate = f" and swallowed {_rows_text(span.start, span.stop - 1)}; those rows were read again on their own"
        else:
            fate = f" and swallowed {_rows_text(span.start, span.stop - 1)}; fix the quote and load again"
        unreadable.append((first, s.id, "unbalanced quote",
                           f"unbalanced quote in {column}: the field runs over {s.lines} lines{fate}"))
        for row, row_id in zip(span, s.ids):
            if row not in read_again:
                unreadable.append((row, row_id, "swallowed row",
                                   f"swallowed by the unbalanced quote in row {first} (its text went into that "
                                   f"row's {column}); fix the quote and load again"))
    table = pa.concat_tables(parts)
    rows = np.concatenate(rows)
    order = np.argsort(rows, kind="stable")
    unreadable.sort()
    return table.take(pa.array(order)), rows[order], unreadable


def _malformed_reason(ncols: int, actual: int) -> str:
    return f"row does not have the {ncols} fields of the header (it has {actual}; unbalanced quotes or commas?)"
