"""Times people read are in their own time zone (issue #15).

The display zone is decided once per command: ``--set display_tz``, ``--tz``, the data folder's
``netdiag.toml``, a workspace's record, or the one offset the data's own times carry.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BASE_LAT, BASE_LON, TINY, write_dataset
from netdiag.cli.main import cli
from netdiag.data.display import check_zone, local_text, settings_for_data
from netdiag.data.times import format_times
from netdiag.settings import Settings

#: a spot served only by C004 (omni, site S002): no alarm on its chain before 2026-11-02 10:00Z
SPOT = ["--lat", str(BASE_LAT - 0.02), "--lon", str(BASE_LON + 0.001)]
COMPLAINT_HEADER = TINY["complaints"][0]


def _complaints(*rows):
    """Complaints near S002, each (id, received_at)."""
    return {"complaints": (COMPLAINT_HEADER, [[cid, received, "", BASE_LAT - 0.02, BASE_LON + 0.001, "", "slow_data", "",
                                               "app", "13900001111", "", ""] for cid, received in rows])}


def _run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


# ----------------------------------------------------------------------------- the reply read to the customer
def test_offset_data_without_options_reads_the_local_deadline_to_the_customer(tmp_path):
    """The data speaks +08:00: the whole check screen is in +08:00, and the reply's deadline is
    the local time of an ordinary ticket's visit deadline, 48 h after the call (20:30 local, not 12:30)."""
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00+08:00"),
                                                         ("K2", "2026-11-02T10:00:00+08:00")))
    r = _run("check", "--data", str(data), *SPOT, "--at", "2026-11-01T20:30+08:00", "--no-server", "--lang", "zh")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "Times in UTC+08:00."
    assert "at 2026-11-01 20:30" in lines[1]
    assert "load in the hour from 2026-11-01 20:00 to 2026-11-01 21:00" in r.output
    assert "于北京时间2026-11-03 20:30前到现场测试" in r.output
    assert "12:30" not in r.output and "2026-11-01T12:30" not in r.output
    # JSON stays exact (UTC) and names the zone
    j = json.loads(_run("check", "--data", str(data), *SPOT, "--at", "2026-11-01T20:30+08:00", "--no-server",
                        "--format", "json").output)
    assert j["at"] == "2026-11-01T12:30:00+00:00" and j["display_tz"] == "UTC+08:00"
    assert "before 2026-11-03 20:30 Beijing time;" in j["reply"]["en"]


def test_naive_data_read_with_tz_reads_the_local_deadline(tmp_path):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00"), ("K2", "2026-11-02T10:00:00")))
    r = _run("--tz", "Asia/Shanghai", "check", "--data", str(data), *SPOT, "--at", "2026-11-01T20:30", "--no-server")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Times in Asia/Shanghai (UTC+08:00).")
    assert "before 2026-11-03 20:30 Beijing time;" in r.output


def test_naive_data_without_a_zone_is_shown_in_utc_and_says_how_to_name_it(tmp_path):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00")))
    r = CliRunner().invoke(cli, ["check", "--data", str(data), *SPOT, "--at", "2026-11-01T20:30", "--no-server"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Times in UTC.")
    assert "before 2026-11-03 20:30 UTC;" in r.stdout  # a naive --at is read, and shown, in UTC
    assert "times are shown in UTC: the complaints' times carry no offset" in r.stderr and "--tz ZONE" in r.stderr


# ----------------------------------------------------------------------------- how the zone is chosen
def test_zone_precedence(tmp_path):
    offsets = write_dataset(tmp_path / "offsets", _complaints(("K1", "2026-11-02T09:00:00+08:00")))
    assert settings_for_data(Settings(), offsets).display_tz == "UTC+08:00"
    assert settings_for_data(Settings(tz="Europe/Dublin"), offsets, given={"tz"}).display_tz == "Europe/Dublin"
    assert settings_for_data(Settings(tz="UTC"), offsets, given={"tz"}).display_tz == "UTC"  # --tz UTC is obeyed
    assert settings_for_data(Settings(display_tz="UTC"), offsets, given={"display_tz"}).display_tz == "UTC"
    mixed = write_dataset(tmp_path / "mixed", _complaints(("K1", "2026-10-24T09:00:00+01:00"),
                                                          ("K2", "2026-10-26T09:00:00+00:00")))
    assert settings_for_data(Settings(), mixed).display_tz == "UTC"  # several offsets: a zone must be named
    (mixed / "netdiag.toml").write_text('tz = "Europe/Dublin"\n')
    named = settings_for_data(Settings(), mixed)
    assert (named.tz, named.display_tz) == ("Europe/Dublin", "Europe/Dublin")


def test_zone_names():
    assert check_zone("+08:00") == check_zone("UTC+8") == "UTC+08:00"
    assert local_text("2026-11-05T12:30:00+00:00", "UTC-05:00") == "2026-11-05 07:30"
    with pytest.raises(ValueError, match="`display_tz` was 'Mars/Olympus'"):
        check_zone("Mars/Olympus", setting="display_tz")


@pytest.mark.parametrize("args", [["--tz", "Mars/Olympus"], ["--set", "display_tz=Beijing"]])
def test_an_unknown_zone_is_a_clear_error(tiny_dir, args):
    r = CliRunner().invoke(cli, [*args, "validate", "--data", str(tiny_dir)])
    assert r.exit_code == 2
    assert "expected to be an IANA time zone" in r.output and "Traceback" not in r.output


def test_a_data_folder_file_with_other_settings_is_refused(tiny_dir):
    (tiny_dir / "netdiag.toml").write_text('tz = "Asia/Shanghai"\nlookback_h = 5\n')
    r = CliRunner().invoke(cli, ["validate", "--data", str(tiny_dir)])
    assert r.exit_code == 2 and "may set only tz and display_tz" in r.output and "lookback_h" in r.output


# ----------------------------------------------------------------------------- daylight saving
def test_a_daylight_saving_zone_shows_local_times_on_both_sides_of_the_change(tmp_path):
    """Dublin changes from IST (UTC+1) to GMT on 2026-10-25 at 02:00 local: a call at 12:00Z on the
    24th is 13:00 local and its deadline 48 h later (12:00Z on the 26th, after the change) is 12:00
    local; a call at 12:00Z on the 26th is 12:00 local."""
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-10-24T13:00:00+01:00"),
                                                         ("K2", "2026-10-26T12:00:00+00:00")))
    (data / "netdiag.toml").write_text('tz = "Europe/Dublin"\n')
    before = _run("check", "--data", str(data), *SPOT, "--at", "2026-10-24T12:00Z", "--no-server")
    assert before.output.startswith("Times in Europe/Dublin (local clock time, summer time included).")
    assert "at 2026-10-24 13:00" in before.output and "before 2026-10-26 12:00 (Europe/Dublin time);" in before.output
    after = _run("check", "--data", str(data), *SPOT, "--at", "2026-10-26T12:00Z", "--no-server")
    assert "at 2026-10-26 12:00" in after.output and "before 2026-10-28 12:00 (Europe/Dublin time);" in after.output
    # a naive --at is read on the local clock: 12:00 in summer is 11:00Z
    j = json.loads(_run("check", "--data", str(data), *SPOT, "--at", "2026-10-24T12:00", "--no-server",
                        "--format", "json").output)
    assert j["at"] == "2026-10-24T11:00:00+00:00"
    assert format_times(pd.Series(["2026-10-25T00:30Z", "2026-10-25T01:30Z"]), "Europe/Dublin").tolist() == \
        ["2026-10-25 01:30", "2026-10-25 01:30"]  # the hour that happens twice, each on its own side


# ----------------------------------------------------------------------------- outputs of a whole run
def test_report_days_follow_the_local_day(tmp_path):
    """A complaint at 01:00 Beijing time on the 3rd is 17:00Z on the 2nd: it counts on the 3rd."""
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-03T01:00:00+08:00"),
                                                         ("K2", "2026-11-02T12:00:00+08:00")))
    out = tmp_path / "rep"
    r = _run("report", "--data", str(data), "--period", "week", "--out", str(out))
    assert r.exit_code == 0, r.output
    by_day = pd.read_csv(out / "by_day.csv", encoding="utf-8-sig")
    counts = dict(zip(by_day["day"].astype(str), by_day["complaints"]))
    assert counts["2026-11-03"] == 1 and counts["2026-11-02"] == 1
    assert "Times in UTC+08:00." in (out / "report.md").read_text(encoding="utf-8")


def test_machine_outputs_do_not_change_with_the_display_zone(tmp_path):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00+08:00")))
    outs = {}
    for zone in ("UTC", "America/New_York"):
        out = tmp_path / zone.replace("/", "_")
        assert _run("--set", f"display_tz={zone}", "diagnose", "--data", str(data), "--out", str(out)).exit_code == 0
        outs[zone] = pd.read_csv(out / "diagnoses.csv", encoding="utf-8-sig")
    for col in ("received_at", "w_start", "w_end"):
        assert outs["UTC"][col].tolist() == outs["America/New_York"][col].tolist()
    assert outs["UTC"].loc[0, "received_at"] == "2026-11-02T01:00:00Z"
    assert "20:00" in outs["America/New_York"].loc[0, "evidence"]  # 01:00Z on the 2nd is 20:00 on the 1st in New York


def test_tickets_and_dispatch_take_the_zone_of_the_data_the_store_was_filled_from(tmp_path):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00+08:00")))
    db = tmp_path / "t.db"
    assert _run("diagnose", "--data", str(data), "--out", str(tmp_path / "o"), "--db", str(db)).exit_code == 0
    listed = _run("tickets", "list", "--db", str(db))
    lines = listed.output.splitlines()
    assert lines[0] == "Times in UTC+08:00." and lines[1].endswith("due (UTC+08:00)")
    assert "2026-11-04 09:00" in lines[3]  # due 48 h after 09:00 local on the 2nd, on the local clock
    ticket = pd.read_csv(tmp_path / "o" / "tickets.csv", encoding="utf-8-sig").iloc[0]
    shown = _run("tickets", "show", ticket["ticket_id"], "--db", str(db))
    assert shown.output.startswith("Times in UTC+08:00.")
    assert "2026-11-02 09:00" in shown.output  # the complaint's received time, as the customer gave it
    team = ticket["team"]
    plan = _run("dispatch", "--team", team, "--date", "2026-11-02", "--db", str(db))
    assert plan.exit_code == 0, plan.output
    assert plan.output.startswith("Times in UTC+08:00.") and "arrive 2026-11-02 09:00" in plan.output


def test_a_workspace_keeps_the_zone_of_the_data_it_was_prepared_from(tmp_path):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00+08:00")))
    ws = tmp_path / "ws"
    assert _run("prepare", str(data), "--workspace", str(ws)).exit_code == 0
    r = _run("check", "--workspace", str(ws), *SPOT, "--at", "2026-11-01T20:30+08:00", "--no-server")
    assert r.output.startswith("Times in UTC+08:00.") and "before 2026-11-03 20:30 Beijing time;" in r.output


def test_ticket_numbers_count_the_days_people_read(sample_dir, tmp_path):
    """A complaint at 00:51 Beijing time on 1 November (16:51 UTC the day before) opens a ticket of 1 November,
    in a run's own tickets and in a store."""
    res = CliRunner().invoke(cli, ["-q", "diagnose", "--data", str(sample_dir), "--out", str(tmp_path / "o"),
                                   "--db", str(tmp_path / "t.db")])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "o" / "tickets.csv", dtype=str, encoding="utf-8-sig")
    first = t[t["created_at"] == "2026-10-31T16:51:31Z"]
    assert len(first) == 1 and first["ticket_id"].iloc[0].startswith("TS-20261101-"), first["ticket_id"].tolist()
    local_days = pd.to_datetime(t["created_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.strftime("%Y%m%d")
    assert (t["ticket_id"].str.slice(3, 11) == local_days).all()


def test_a_store_numbers_its_tickets_in_one_zone_whoever_runs_it(sample_dir, tmp_path):
    """The zone whose days number a store's tickets is kept in the store: a later run with another display zone
    (a colleague's --set display_tz=UTC) goes on numbering by the same days."""
    from netdiag.tickets.store import TicketStore

    db = str(tmp_path / "t.db")
    first = CliRunner().invoke(cli, ["-q", "diagnose", "--data", str(sample_dir), "--out", str(tmp_path / "a"), "--db", db])
    assert first.exit_code == 0, first.output
    with TicketStore(db, create=False) as store:
        assert store.conn.tuples("SELECT value FROM store_settings WHERE key = 'ticket_zone'")[1] == [("UTC+08:00",)]
        store.conn.execute("DELETE FROM complaints")  # the colleague's run links every complaint again, to new tickets
        store.conn.execute("DELETE FROM history")
        store.conn.execute("DELETE FROM tickets")
    again = CliRunner().invoke(cli, ["-q", "--set", "display_tz=UTC", "diagnose", "--data", str(sample_dir), "--out",
                                     str(tmp_path / "b"), "--db", db])
    assert again.exit_code == 0, again.output
    t = pd.read_csv(tmp_path / "b" / "tickets.csv", dtype=str, encoding="utf-8-sig")
    local_days = pd.to_datetime(t["created_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.strftime("%Y%m%d")
    assert (t["ticket_id"].str.slice(3, 11) == local_days).all()


# ----------------------------------------------------------------------------- review of issue #15
@pytest.mark.parametrize("offset", ["+08", "+0800", "+08:00"])
def test_hour_only_and_compact_offsets_name_the_data_zone(tmp_path, offset):
    """PostgreSQL writes ``2026-11-02T09:00:00+08``: that is the data's zone as much as ``+08:00``."""
    data = write_dataset(tmp_path / "data", _complaints(("K1", f"2026-11-02T09:00:00{offset}"),
                                                         ("K2", f"2026-11-02T10:00:00{offset}")))
    r = CliRunner().invoke(cli, ["check", "--data", str(data), *SPOT, "--at", "2026-11-01T20:30+08:00", "--no-server"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Times in UTC+08:00.")
    assert "before 2026-11-03 20:30 Beijing time;" in r.stdout
    assert "carry no offset" not in r.stderr


def test_a_fixed_offset_guessed_where_zones_have_summer_time_is_said_on_the_check_screen(tmp_path):
    """Dublin data all in summer time (+01:00): the offset is used as a fixed one, and the handler
    reads that and how to name the real zone (after 25 October it would be an hour off)."""
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-10-24T09:00:00+01:00"),
                                                         ("K2", "2026-10-24T10:00:00+01:00")))
    r = CliRunner().invoke(cli, ["check", "--data", str(data), *SPOT, "--at", "2026-10-24T12:00Z", "--no-server"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "Times in UTC+01:00."
    assert lines[1].startswith("WARNING  Times are shown in UTC+01:00, the one offset the complaints' times carry, "
                               "as a fixed offset") and "Europe/Dublin" in lines[1]
    assert f'tz = "Europe/Dublin" (or display_tz) in {data / "netdiag.toml"}' in lines[1]
    assert "as a fixed offset" in r.stderr and "netdiag.toml" in r.stderr
    j = json.loads(CliRunner().invoke(cli, ["check", "--data", str(data), *SPOT, "--at", "2026-10-24T12:00Z",
                                            "--no-server", "--format", "json"]).stdout)
    assert "UTC+01:00" in j["warning"] and "Europe/Dublin" in j["warning"]


def test_two_offsets_an_hour_apart_are_not_guessed_and_the_warning_says_how_to_name_the_zone(tmp_path):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-10-24T09:00:00+01:00"),
                                                         ("K2", "2026-10-26T09:00:00+00:00")))
    r = CliRunner().invoke(cli, ["check", "--data", str(data), *SPOT, "--at", "2026-10-24T12:00Z", "--no-server"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Times in UTC.")
    assert "several offsets (UTC, UTC+01:00), an hour apart as in a zone with summer time" in r.stderr
    assert "tz = " in r.stderr and "netdiag.toml" in r.stderr


def test_tickets_and_dispatch_find_the_data_zone_from_another_folder_and_warn_when_it_is_gone(tmp_path, monkeypatch):
    """A store filled with a relative --data is read from elsewhere: the zone is still the data's;
    once the data folder is gone, stderr says which zone is used and how to give one."""
    write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00+08:00")))
    monkeypatch.chdir(tmp_path)
    assert _run("diagnose", "--data", "data", "--out", "o", "--db", "t.db").exit_code == 0
    team = pd.read_csv(tmp_path / "o" / "tickets.csv", encoding="utf-8-sig").iloc[0]["team"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    db = str(tmp_path / "t.db")
    listed = CliRunner().invoke(cli, ["tickets", "list", "--db", db])
    assert listed.stdout.startswith("Times in UTC+08:00.") and "2026-11-04 09:00" in listed.stdout
    assert "not found" not in listed.stderr
    plan = CliRunner().invoke(cli, ["dispatch", "--team", team, "--date", "2026-11-02", "--db", db])
    assert plan.stdout.startswith("Times in UTC+08:00.") and "arrive 2026-11-02 09:00" in plan.stdout
    (tmp_path / "data").rename(tmp_path / "moved")
    listed = CliRunner().invoke(cli, ["tickets", "list", "--db", db])
    assert listed.stdout.startswith("Times in UTC.")
    warning = [line for line in listed.stderr.splitlines() if "not found" in line]
    assert len(warning) == 1 and "times are shown in UTC" in warning[0] and "--set display_tz=ZONE" in warning[0]


def test_map_and_report_on_a_day_whose_midnight_does_not_exist(tmp_path):
    """America/Santiago skips from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00 (04:00Z)
    and lasts 23 hours; reports, the map's day slider and --date/--from take it as it is."""
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-09-05T23:30:00-04:00"),   # 03:30Z on the 6th
                                                         ("K2", "2026-09-06T01:30:00-03:00"),   # 04:30Z
                                                         ("K3", "2026-09-06T23:30:00-03:00")))  # 02:30Z on the 7th
    (data / "netdiag.toml").write_text('tz = "America/Santiago"\n')
    out = tmp_path / "rep"
    r = CliRunner().invoke(cli, ["report", "--data", str(data), "--period", "week", "--date", "2026-09-06", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "week 2026-W36 (2026-08-31 to 2026-09-06)" in r.stdout
    by_day = pd.read_csv(out / "by_day.csv", encoding="utf-8-sig")
    counts = dict(zip(by_day["day"].astype(str), by_day["complaints"]))
    assert counts["2026-09-05"] == 1 and counts["2026-09-06"] == 2
    r = CliRunner().invoke(cli, ["map", "--data", str(data), "--from", "2026-09-06", "--to", "2026-09-06",
                                 "--out", str(tmp_path / "m.html")])
    assert r.exit_code == 0, r.output
    assert "2 complaints" in r.stdout + r.stderr  # the 6th, from 01:00 local to the end of the day
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "2026-09-06" in page
    r = CliRunner().invoke(cli, ["map", "--data", str(data), "--out", str(tmp_path / "all.html")])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("args, says", [
    (["--tz", "Asia"], "`tz` was 'Asia' but is expected to be an IANA time zone"),
    (["--set", "display_tz=Asia"], "`display_tz` was 'Asia' but is expected to be an IANA time zone"),
    (["--set", "display_tz=" + "A" * 10_000], "(10,000 characters) but is expected to be an IANA time zone"),
    (["--tz", "+14:30"], "an offset is at most 14:00 hours from UTC"),
])
def test_a_zone_that_cannot_be_looked_up_is_a_one_line_error(tiny_dir, args, says):
    r = CliRunner().invoke(cli, [*args, "validate", "--data", str(tiny_dir)])
    assert r.exit_code == 2, r.exception  # a usage error, not a crash (exit code 1)
    assert says in r.output and "Traceback" not in r.output
    error = [line for line in r.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and len(error[0]) < 300


@pytest.mark.parametrize("text, says", [
    ("netdiag = 5\n", "`netdiag` was 5 but is expected to be a table"),
    ("# " + "x" * 70_000 + "\n", "may be at most 64 KB"),
    ('tz = "' + "B" * 10_000 + '"\n', "(10,000 characters)"),
])
def test_a_data_folder_file_that_cannot_be_used_is_a_one_line_error(tiny_dir, text, says):
    (tiny_dir / "netdiag.toml").write_text(text)
    r = CliRunner().invoke(cli, ["validate", "--data", str(tiny_dir)])
    assert r.exit_code == 2, r.exception
    assert says in r.output and "Traceback" not in r.output and len(r.output) < 400


def test_an_empty_display_tz_in_the_data_folder_file_is_as_if_not_set_as_on_the_command_line(tmp_path):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00+08:00")))
    (data / "netdiag.toml").write_text('display_tz = ""\n')
    from_file = _run("check", "--data", str(data), *SPOT, "--at", "2026-11-01T20:30+08:00", "--no-server")
    given = _run("--set", "display_tz=", "check", "--data", str(data), *SPOT, "--at", "2026-11-01T20:30+08:00", "--no-server")
    assert from_file.exit_code == given.exit_code == 0, from_file.output
    assert from_file.output.startswith("Times in UTC+08:00.") and from_file.output == given.output


def test_a_utc_fallback_is_said_in_the_reply_and_on_the_check_screen(tmp_path):
    """Naive data and no zone named: the customer hears "UTC" with the deadline, and the handler
    reads on the screen (not only on stderr) that UTC is a fallback and how to name the zone."""
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00")))
    r = CliRunner().invoke(cli, ["check", "--data", str(data), *SPOT, "--at", "2026-11-01T12:30", "--no-server", "--lang", "zh"])
    assert r.exit_code == 0, r.output
    assert "于2026-11-03 12:30 UTC前到现场测试" in r.stdout
    assert r.stdout.splitlines()[1].startswith("WARNING  Times are shown in UTC: the complaints' times carry no offset "
                                               "and no zone was given, so UTC is a fallback; name the zone with tz =")
    j = json.loads(CliRunner().invoke(cli, ["check", "--data", str(data), *SPOT, "--at", "2026-11-01T12:30",
                                            "--no-server", "--format", "json"]).stdout)
    assert "before 2026-11-03 12:30 UTC;" in j["reply"]["en"] and "UTC is a fallback" in j["warning"]
    # a zone named UTC is not a fallback: no warning, but the reply still says UTC
    named = CliRunner().invoke(cli, ["--tz", "UTC", "check", "--data", str(data), *SPOT, "--at", "2026-11-01T12:30",
                                     "--no-server"])
    assert "WARNING" not in named.stdout and "before 2026-11-03 12:30 UTC;" in named.stdout


@pytest.mark.parametrize("recorded", ["Mars/Olympus", 5, None, "../../etc/passwd"])
def test_a_workspace_recording_no_usable_zone_says_so(tmp_path, recorded):
    data = write_dataset(tmp_path / "data", _complaints(("K1", "2026-11-02T09:00:00+08:00")))
    ws = tmp_path / "ws"
    assert _run("prepare", str(data), "--workspace", str(ws)).exit_code == 0
    manifest = json.loads((ws / "manifest.json").read_text(encoding="utf-8"))
    (ws / "manifest.json").write_text(json.dumps({**manifest, "display_tz": recorded}), encoding="utf-8")
    r = CliRunner().invoke(cli, ["check", "--workspace", str(ws), *SPOT, "--at", "2026-11-01T20:30+08:00", "--no-server"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Times in UTC.")
    warning = [line for line in r.stderr.splitlines() if "records display_tz" in line]
    assert len(warning) == 1 and "not a time zone" in warning[0] and "--set display_tz=ZONE" in warning[0]
    assert "not a time zone" in r.stdout  # on the check screen too
