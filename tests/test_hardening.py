"""Hostile text and an unlucky file system, as the CLI meets them (issue #9).

Each test is one class of defect: terminal escapes from the data, Markdown from the data,
writing through a symbolic link, file-system errors on output, options that slip past
validation, and phone numbers in free text.
"""
from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import TINY, write_dataset
from netdiag.cli.main import cli

ESC = "\x1b]0;owned\x07\x1b[2J\x1b[31mALL CLEAR\x1b[0m\u202e"
AT = ["--lat", "53.355", "--lon", "-6.4", "--at", "2026-11-02T11:30:00Z"]


def hostile_data(tmp_path, **replace):
    """TINY with terminal escapes in the OMC details and a site's name, markup in a region."""
    tables = copy.deepcopy(TINY)
    for row in tables["events"][1]:
        row[-1] = f"fibre cut {ESC}"
    tables["sites"][1][0][1] = f"Lucan {ESC}"
    for key, value in replace.items():
        tables[key] = value
    return write_dataset(tmp_path / "data", tables)


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def no_escape(text: str) -> bool:
    return not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)


def test_terminal_escapes_from_the_data_never_reach_the_terminal(tmp_path):
    data = hostile_data(tmp_path)
    db = tmp_path / "t.db"
    assert run("diagnose", "--data", data, "--out", tmp_path / "out", "--db", db).exit_code == 0
    check = run("check", "--data", data, *AT, "--no-server")
    assert check.exit_code == 0 and "fibre cut" in check.output
    tickets = json.loads(run("tickets", "list", "--db", db, "--format", "json").output)
    hub = next(t["id"] for t in tickets if t["name"] == "fault on HUB1")
    shown = run("tickets", "show", hub, "--db", db)
    listed = run("tickets", "list", "--db", db)
    field = [t for t in tickets if t["ticketType"] == "fieldTest"]
    for res in (check, shown, listed):
        assert res.exit_code == 0, res.output
        assert no_escape(res.output), repr(res.output[-400:])
    assert "\\u001b]0;owned" in check.output  # shown, visibly, as an escape
    if field:
        team = next(p["id"] for p in field[0]["relatedParty"] if p["role"] == "assignee")
        plan = run("dispatch", "--team", team, "--db", db)
        assert plan.exit_code == 0 and no_escape(plan.output)


def test_an_escape_in_an_error_message_is_shown_as_text(tmp_path):
    res = run("validate", "--data", tmp_path / f"data{ESC}")  # a folder name is data too
    assert res.exit_code == 2 and "does not exist" in res.output
    assert no_escape(res.output) and "\\u001b" in res.output


def test_markdown_in_the_data_stays_text_in_the_report(tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    tables = copy.deepcopy(TINY)
    regions = ["[click here](http://evil.example/x)", "![pixel](http://evil.example/p.png)",
               "<img src=x onerror=alert(1)> http://evil.example www.evil.example"]
    for row, region in zip(tables["sites"][1], regions):
        row[-1] = region
    data = write_dataset(tmp_path / "data", tables)
    res = run("report", "--data", data, "--period", "week", "--out", tmp_path / "r")
    assert res.exit_code == 0, res.output
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    html = markdown_it.MarkdownIt("gfm-like").render(md)
    assert "evil.example" in html  # the text is there ...
    images = re.findall(r'<img src="([^"]*)"', html)
    assert all(src.startswith("charts/") for src in images)  # only the report's own charts ...
    assert "<a " not in html and "onerror=" not in html      # ... no link, image or tag from the data


def test_never_writes_through_a_symbolic_link(tmp_path, tiny_dir):
    target = tmp_path / "elsewhere" / "owned.csv"
    out = tmp_path / "out"
    out.mkdir()
    (out / "diagnoses.csv").symlink_to(target)  # dangling: it would create a file elsewhere
    res = run("diagnose", "--data", tiny_dir, "--out", out, "--overwrite")
    assert res.exit_code == 2 and "symbolic link" in res.output
    assert not target.exists()
    (tmp_path / "map.html").symlink_to(tmp_path / "elsewhere" / "map.html")
    res = run("map", "--data", tiny_dir, "--out", tmp_path / "map.html", "--overwrite")
    assert res.exit_code == 2 and "symbolic link" in res.output
    assert not (tmp_path / "elsewhere").exists()


def test_a_link_planted_after_the_check_is_refused_by_the_open_itself(tmp_path):
    from netdiag.errors import InputError
    from netdiag.views.writers import write_text

    (tmp_path / "page.html").symlink_to(tmp_path / "victim.txt")
    with pytest.raises(InputError, match="symbolic link"):
        write_text(tmp_path / "page.html", "x")
    assert not (tmp_path / "victim.txt").exists()


def test_file_system_errors_on_output_are_one_line(tmp_path, tiny_dir):
    (tmp_path / "taken").write_text("a file where a folder should be")
    res = run("diagnose", "--data", tiny_dir, "--out", tmp_path / "taken" / "out")
    assert res.exit_code == 2 and "Traceback" not in res.output and "taken" in res.output
    (tmp_path / "dir.html").mkdir()
    res = run("map", "--data", tiny_dir, "--out", tmp_path / "dir.html")
    assert res.exit_code == 2 and "is a directory" in res.output


def test_disk_full_is_a_one_line_error(tmp_path, tiny_dir):
    """A run whose output folder is on a full file system (a 1 MB tmpfs, when this user may mount one)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip() or 'not root'})")
    try:
        (mount / "filler").write_bytes(b"\0" * (60 * 1024))
        res = subprocess.run([sys.executable, "-m", "netdiag.cli.main", "-q", "diagnose", "--data", str(tiny_dir),
                              "--out", str(mount / "out"), "--json"], capture_output=True, text=True, timeout=120)
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and re.fullmatch(rf"Error: {re.escape(str(mount / 'out'))}/\w+\.\w+: No space left on device", lines[0])
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


@pytest.mark.parametrize("args, message", [
    (["--set", "lookback_h=nan", "settings"], "`lookback_h` was nan but must be a finite number"),
    (["--set", "congestion_prb_pct=inf", "settings"], "`congestion_prb_pct` was inf but must be a finite number"),
    (["--set", "major_complaint_count=1e3", "settings"], "is expected to be a whole number"),
    (["report", "--data", "{data}", "--date", "9999-12-31"], "--date was '9999-12-31', outside the years 1678-2261"),
    (["map", "--data", "{data}", "--from", "1000-01-01", "--out", "{data}/../m.html"], "--from was '1000-01-01', outside the years"),
    (["check", "--data", "{data}", "--lat", "nan", "--lon", "-6.4", "--no-server"], "not a valid latitude/longitude"),
    (["check", "--data", "{data}", "--lat", "53.35", "--lon", "-6.4", "--at", "9999-12-31T00:00", "--no-server"],
     "--at was '9999-12-31T00:00'"),
])
def test_options_are_validated_at_the_boundary(tiny_dir, args, message):
    res = run(*[a.replace("{data}", str(tiny_dir)) for a in args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_a_far_future_dispatch_day_is_refused(tmp_path, tiny_dir):
    db = tmp_path / "t.db"
    assert run("diagnose", "--data", tiny_dir, "--out", tmp_path / "out", "--db", db).exit_code == 0
    res = run("dispatch", "--team", "field-West", "--date", "9999-12-31", "--db", db)
    assert res.exit_code == 2 and "outside the years" in res.output


def test_phone_numbers_in_descriptions_are_masked_in_every_output(tmp_path):
    tables = copy.deepcopy(TINY)
    tables["complaints"][1][0][-1] = "call 139 8765 4321 or +86 (0755) 8888-1234 after 6pm"
    data = write_dataset(tmp_path / "data", tables)
    db = tmp_path / "t.db"
    assert run("diagnose", "--data", data, "--out", tmp_path / "out", "--json", "--db", db).exit_code == 0
    assert run("map", "--data", data, "--out", tmp_path / "map.html").exit_code == 0
    texts = [p.read_bytes() for p in (tmp_path / "out").iterdir()] + [(tmp_path / "map.html").read_bytes(), db.read_bytes()]
    for raw in texts:
        for secret in (b"8765 4321", b"87654321", b"8888-1234", b"13812345678", b"13900001111"):
            assert secret not in raw
    assert b"*** **** 4321" in (tmp_path / "out" / "diagnoses.csv").read_bytes()


def test_a_date_without_a_time_is_local_not_an_offset(tmp_path):
    """``2026-11-05`` ends in ``-05``, which is not a UTC offset: the day starts at local midnight."""
    from netdiag.data.convert import to_time
    from netdiag.data.times import parse_time

    values, bad, _ = to_time(__import__("pandas").Series(["2026-11-05", "2026-11-05T10:00-05"]), "Asia/Shanghai")
    assert not bad.any()
    assert str(values[0]) == "2026-11-04 16:00:00+00:00" and str(values[1]) == "2026-11-05 15:00:00+00:00"
    assert str(parse_time("2026-11-05", tz="Asia/Shanghai")) == "2026-11-04 16:00:00+00:00"
    with pytest.raises(Exception, match="ISO 8601"):
        parse_time("Nov 5 2026")  # one parser: the data's rules, ISO 8601 only


def test_a_phone_number_typed_into_a_checked_column_is_masked_in_the_rejection(tmp_path):
    tables = copy.deepcopy(TINY)
    tables["complaints"][1][0][6] = "13912345678"  # the category column
    data = write_dataset(tmp_path / "data", tables)
    res = run("validate", "--data", data, "--out", tmp_path / "out")
    assert res.exit_code == 0
    rejected = (tmp_path / "out" / "rejected.csv").read_text(encoding="utf-8-sig")
    assert "13912345678" not in rejected and "*******5678" in rejected


def test_a_transport_cycle_reads_the_same_in_every_run(tmp_path):
    tables = copy.deepcopy(TINY)
    tables["transport"][1].extend([["AGG1", "aggregation", "AGG2", "", "", ""], ["AGG2", "aggregation", "AGG1", "", "", ""]])
    data = write_dataset(tmp_path / "data", tables)
    env = {**os.environ}
    reasons = set()
    for seed in ("1", "2", "3", "4"):  # string hashing differs between processes with other seeds
        env["PYTHONHASHSEED"] = seed
        out = tmp_path / f"out{seed}"
        subprocess.run([sys.executable, "-m", "netdiag.cli.main", "-q", "validate", "--data", str(data), "--out", str(out)],
                       env=env, check=True, capture_output=True)
        text = (out / "rejected.csv").read_text(encoding="utf-8-sig")
        reasons.add(re.search(r"transport parent cycle [A-Z0-9>]+", text).group(0))
    assert reasons == {"transport parent cycle AGG1>AGG2>AGG1"}


def test_dispatch_files_of_different_teams_never_share_a_name():
    from netdiag.views.dispatch_list import _slug

    names = {_slug(t) for t in ("field-南山", "field-福田", "field-West", "field West", "../x")}
    assert len(names) == 5 and _slug("field-West") == "field-West"
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_an_output_folder_linked_by_another_account_is_refused(tmp_path, tiny_dir):
    if os.geteuid() != 0:
        pytest.skip("needs root to make a link owned by another account")
    (tmp_path / "target").mkdir()
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "target")
    os.lchown(link, 65534, 65534)
    res = run("diagnose", "--data", tiny_dir, "--out", link)
    assert res.exit_code == 2 and "made by another account" in res.output
    assert list((tmp_path / "target").iterdir()) == []
    own = tmp_path / "mine"
    own.symlink_to(tmp_path / "target")  # a link of your own is your choice
    assert run("diagnose", "--data", tiny_dir, "--out", own).exit_code == 0


def test_an_export_never_overwrites_the_store_through_a_hard_link(tmp_path, tiny_dir):
    db = tmp_path / "t.db"
    assert run("diagnose", "--data", tiny_dir, "--out", tmp_path / "out", "--db", db).exit_code == 0
    os.link(db, tmp_path / "alias.db")
    res = run("tickets", "export", "--db", db, "--format", "csv", "--out", tmp_path / "alias.db", "--overwrite")
    assert res.exit_code == 2 and "is the ticket store itself" in res.output
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"


def test_odd_but_valid_options_give_answers_not_tracebacks(tmp_path, tiny_dir):
    db = tmp_path / "t.db"
    assert run("diagnose", "--data", tiny_dir, "--out", tmp_path / "out", "--db", db).exit_code == 0
    res = run("dispatch", "--team", "field-West", "--date", "2020-01-01", "--db", db)  # no visits that day, no start
    assert res.exit_code == 0 and "Traceback" not in res.output
    res = run("map", "--data", tiny_dir, "--from", "1678-01-02", "--to", "2261-12-30", "--out", tmp_path / "m.html")
    assert res.exit_code == 0, res.output


def test_a_number_a_handler_types_into_a_note_is_masked(tmp_path, tiny_dir):
    db = tmp_path / "t.db"
    assert run("diagnose", "--data", tiny_dir, "--out", tmp_path / "out", "--db", db).exit_code == 0
    ticket = json.loads(run("tickets", "list", "--db", db, "--format", "json").output)[0]["id"]
    res = run("tickets", "update", ticket, "--db", db, "--note", "customer asks a call back on 139 8765 4321",
              "--why", "called 13812345678")
    assert res.exit_code == 0
    shown = run("tickets", "show", ticket, "--db", db).output
    assert "8765 4321" not in shown and "13812345678" not in shown and "*** **** 4321" in shown
    assert b"8765 4321" not in db.read_bytes()


@pytest.mark.parametrize("typed", ["139 - 8765 - 4321", "139/8765/4321", "139_8765_4321", "139,8765,4321",
                                   "139\u20148765\u20144321", "139\u30008765\u30004321", "0612 34 56 78"])
def test_phone_numbers_however_they_are_typed(typed):
    from netdiag.data.privacy import mask_phone_numbers

    masked = mask_phone_numbers(f"call {typed} please")
    assert sum(ch.isdigit() for ch in masked) <= 4


def test_report_markdown_holds_no_terminal_escape(tmp_path):
    data = hostile_data(tmp_path)
    assert run("report", "--data", data, "--period", "week", "--out", tmp_path / "r").exit_code == 0
    for page in (tmp_path / "r").rglob("*"):
        if page.is_file():
            assert no_escape(page.read_text(encoding="utf-8")), page.name
