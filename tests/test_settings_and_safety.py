import pandas as pd
import pytest

from netdiag.cli.options import UsageFailure, parse_assignments
from netdiag.data.privacy import mask_customer, mask_phone_numbers, mask_series
from netdiag.errors import InputError
from netdiag.settings import Settings
from netdiag.views.sanitize import csv_cell, escape_html


def test_overrides_are_typed_and_validated():
    s = Settings().with_overrides({"lookback_h": "48", "tz": "Asia/Shanghai"})
    assert s.lookback_h == 48.0 and s.tz == "Asia/Shanghai"
    with pytest.raises(InputError, match=r"unknown setting `lookbak_h`"):
        Settings().with_overrides({"lookbak_h": "1"})
    with pytest.raises(InputError, match=r"setting `lookback_h` was 'soon' but is expected to be a number"):
        Settings().with_overrides({"lookback_h": "soon"})
    with pytest.raises(InputError, match=r"`congestion_prb_pct` was 120 but must be <= 100"):
        Settings(congestion_prb_pct=120)
    with pytest.raises(InputError, match=r"`tz` was 'Mars/Olympus'"):
        Settings(tz="Mars/Olympus")


def test_config_file(tmp_path):
    path = tmp_path / "netdiag.toml"
    path.write_text('[netdiag]\ncongestion_prb_pct = 90\ntz = "Asia/Shanghai"\n')
    s = Settings.from_file(path, lookback_h="24")
    assert (s.congestion_prb_pct, s.tz, s.lookback_h) == (90.0, "Asia/Shanghai", 24.0)
    path.write_text("congestion_prb_pct = [")
    with pytest.raises(InputError, match=r"is not valid TOML"):
        Settings.from_file(path)


def test_parse_assignments():
    assert parse_assignments(["a=1", " b = x "]) == {"a": "1", "b": "x"}
    with pytest.raises(UsageFailure, match=r"`--set` was 'oops' but is expected to look like name=value"):
        parse_assignments(["oops"])


def test_masking_and_neutralising():
    assert mask_customer("13812345678") == "*******5678"
    assert mask_customer("12345") == "***45"
    assert csv_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-3.5") == "-3.5"
    assert escape_html("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"


@pytest.mark.parametrize("length", range(1, 25))
def test_at_most_four_digits_and_never_more_than_half_are_readable(length):
    number = "".join(str((7 * i + 3) % 10) for i in range(length))
    masked = mask_customer(number)
    readable = sum(ch.isdigit() for ch in masked)
    assert len(masked) == length and readable <= 4 and readable <= length // 2
    assert masked.endswith(number[length - readable:]) if readable else set(masked) == {"*"}
    assert mask_series(pd.Series([number])).iloc[0] == masked


def test_phone_numbers_in_free_text_are_masked_but_dates_are_not():
    text = "手机13812345678, office +86 (0755) 8888-1234; since 2026-11-02 18:30, order 12"
    masked = mask_phone_numbers(text)
    assert "13812345678" not in masked and "*******5678" in masked
    assert "8888-1234" not in masked and masked.count("*") >= 7 + 9
    assert "2026-11-02 18:30" in masked and "order 12" in masked
    assert mask_phone_numbers(None) is None
