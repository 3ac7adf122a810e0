"""Files a hostile or careless author might hand over: a header and nothing else, CR line ends,
UTF-16, mixed encodings, other separators, byte order marks inside, NUL bytes, Excel's ="001".
Each is read row for row or refused in one clear line, never a traceback."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, write_dataset
from netdiag.data.convert import to_id
from netdiag.data.dataset import load_dataset
from netdiag.errors import InputError

HEADER = ",".join(TINY["complaints"][0])
ROW = "K{n},2026-11-02T13:00:00Z,,53.355,-6.4,wgs84,no_signal,,hotline,1381234{n:04d},,desc {n}"


def complaints(tmp_path, data: bytes):
    folder = write_dataset(tmp_path)
    (folder / "complaints.csv").write_bytes(data)
    return load_dataset(folder, tables=("complaints",))


def rows(*numbers, end="\n") -> str:
    return "".join(ROW.format(n=n) + end for n in numbers)


@pytest.mark.parametrize("data", [HEADER.encode(), (HEADER + "\n").encode(), (HEADER + "\r\n\r\n").encode()])
def test_a_header_and_nothing_else_is_an_empty_table(tmp_path, data):
    ds = complaints(tmp_path, data)
    assert ds["complaints"].empty and ds.rejected.empty


def test_cr_only_line_ends_and_nul_bytes(tmp_path):
    text = HEADER + "\r" + rows(1, 2, end="\r") + ROW.format(n=3).replace("desc", "de\x00sc") + "\r"
    ds = complaints(tmp_path, text.encode())
    assert ds["complaints"]["complaint_id"].tolist() == ["K1", "K2", "K3"]


def test_utf16_from_excel_is_read(tmp_path):
    ds = complaints(tmp_path, (HEADER + "\n" + rows(1, 2).replace("desc 2", "福田中心站")).encode("utf-16"))
    assert ds["complaints"]["description"].tolist() == ["desc 1", "福田中心站"]


def test_a_row_in_another_encoding_is_rejected_not_the_file(tmp_path):
    utf8 = (HEADER + "\n" + rows(1).replace("desc 1", "福田 utf8")).encode()
    gb = rows(2).replace("desc 2", "福田中心站").encode("gb18030")
    ds = complaints(tmp_path, utf8 + gb + rows(3).encode())
    assert ds.rejected[["row", "id", "reason"]].values.tolist() == [
        [2, "K2", "description is not UTF-8 text (the file mixes text encodings; save it again as UTF-8)"]]
    assert ds["complaints"]["description"].tolist() == ["福田 utf8", "desc 3"]


def test_a_file_all_in_gb18030_is_read_whole(tmp_path):
    ds = complaints(tmp_path, (HEADER + "\n" + rows(1, 2).replace("desc 2", "福田中心站")).encode("gb18030"))
    assert ds.rejected.empty and ds["complaints"]["description"].tolist() == ["desc 1", "福田中心站"]


@pytest.mark.parametrize("sep", [";", "\t"])
def test_another_separator_is_a_clear_error(tmp_path, sep):
    with pytest.raises(InputError, match="the header is one column holding .* between names; netdiag reads comma-separated"):
        complaints(tmp_path, (HEADER.replace(",", sep) + "\n" + rows(1).replace(",", sep)).encode())


def test_a_byte_order_mark_at_the_start_of_a_row_is_no_part_of_its_id(tmp_path):
    ds = complaints(tmp_path, ("\ufeff" + HEADER + "\n" + rows(1) + "\ufeff" + rows(2)).encode())
    assert ds["complaints"]["complaint_id"].tolist() == ["K1", "K2"]


def test_excel_text_ids_are_their_text(tmp_path):
    text = HEADER + "\n" + rows(1).replace("K1,", '="001",', 1) + rows(2).replace("K2,", '"=""002""",', 1)
    ds = complaints(tmp_path, text.encode())
    assert ds["complaints"]["complaint_id"].tolist() == ["001", "002"]


def test_excel_text_ids_in_millions_of_load_rows():
    values = pd.Series(np.array(['="C001"', "C001", "C002", None] * 60_000, dtype=object)).astype(
        pd.StringDtype("pyarrow", na_value=np.nan))
    ids = to_id(values)
    assert list(ids.cat.categories) == ["C001", "C002"]
    assert ids[:4].tolist()[:3] == ["C001", "C001", "C002"] and pd.isna(ids[3])
    small = to_id(pd.Series(['="007"', "8", None], dtype=object))
    assert small[:2].tolist() == ["007", "8"] and pd.isna(small[2])


def test_a_stray_quote_and_a_row_in_another_encoding_in_one_file(tmp_path):
    lines = (HEADER + "\n" + rows(1, 2).replace("desc 1", '"desc 1').replace("desc 2", "福田 utf8") + rows(3, 4)).encode()
    ds = complaints(tmp_path, lines + rows(5).replace("desc 5", "福田中心站").encode("gb18030"))
    rej = ds.rejected.set_index("row")
    assert rej.loc[1, "reason"] == ("unbalanced quote in description: the field runs over 5 lines and swallowed rows 2-5; "
                                    "those rows were read again on their own")
    assert rej.loc[5, ["id", "code"]].tolist() == ["K5", "not UTF-8"]  # read again, and not UTF-8 on its own either
    assert ds["complaints"]["_row"].tolist() == [2, 3, 4]
