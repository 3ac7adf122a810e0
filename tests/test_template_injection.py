"""Text from the data is never a template: a site name like ``{{ ... }}`` in a dispatch route map,
a map or a report stays text and runs nothing (found by an adversarial review: branca compiles a
layer's rendered script as a Jinja template once more). A callback number in an alarm's detail is
masked like one in a complaint's description."""
from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from netdiag.cli.main import cli

PWN = "{{ this.__init__.__globals__['__builtins__']['__import__']('os').system('touch PWNED') }}"
BLOCK = "{% for x in range(3) %}ZZLOOPZZ{% endfor %}{# hidden #}"
PHONE = "13812345678"


def test_data_is_never_run_as_a_template(tmp_path, monkeypatch):
    from netdiag.sample import generate

    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    generate(data, n_sites=60, seed=7)
    sites = pd.read_csv(data / "sites.csv", dtype=str, keep_default_na=False)
    sites["name"], sites["region"], sites["maintainer"] = PWN, BLOCK, PWN
    sites.to_csv(data / "sites.csv", index=False)
    events = pd.read_csv(data / "events.csv", dtype=str, keep_default_na=False)
    events["detail"] = f"call the site owner on {PHONE} {PWN}"
    events.to_csv(data / "events.csv", index=False)

    def run(*args):
        res = CliRunner().invoke(cli, ["--tz", "Asia/Shanghai", *map(str, args)], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res

    run("diagnose", "--data", data, "--out", "o", "--db", "s.db")
    listed = run("tickets", "list", "--db", "s.db", "--format", "csv", "--kind", "field_test").output.splitlines()[1:]
    team, due = listed[0].split(",")[4], listed[0].split(",")[9][:10]
    run("dispatch", "--team", team, "--date", due, "--db", "s.db", "--out", "disp", "--max-stops", "40")
    run("map", "--data", data, "--out", "m.html", "--title", PWN)
    run("report", "--data", data, "--period", "week", "--out", "rep")
    assert not (tmp_path / "PWNED").exists()
    route = next((tmp_path / "disp").glob("*_map.html")).read_text(encoding="utf-8")
    assert "\\u007b{ this.__init__" in route and "ZZLOOPZZZZLOOPZZ" not in route  # the text, escaped, not run
    for path in [p for p in tmp_path.rglob("*") if p.suffix in (".csv", ".html", ".md", ".json") and data not in p.parents]:
        assert PHONE not in path.read_text(encoding="utf-8-sig"), path
