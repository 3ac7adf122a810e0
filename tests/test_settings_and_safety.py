import pytest

from netdiag.cli.options import UsageFailure, parse_assignments
from netdiag.data.privacy import mask_customer
from netdiag.errors import InputError
from netdiag.settings import Settings
from netdiag.views.sanitize import csv_cell, escape_html


def test_overrides_are_typed_and_validated():
    s = Settings().with_overrides({"lookback_h": "48", "tz": "Asia/Shanghai"})
    assert s.lookback_h == 48.0 and s.tz == "Asia/Shanghai"
    with pytest.raises(InputError, match=r"unknown setting `lookbak_h`"):
        Settings().with_overrides({"lookbak_h": "1"})
    with pytest.raises(InputError, match=r"setting `lookback_h` was 'soon' but is expected to be a float"):
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
    assert mask_customer("13812345678") == "138****5678"
    assert mask_customer("12345") == "****5"
    assert csv_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-3.5") == "-3.5"
    assert escape_html("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
