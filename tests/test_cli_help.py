"""Every command explains itself: ``--help`` works and shows at least one example that the
command line parser accepts as written (flags, choices, values and files it names)."""
from __future__ import annotations

import shlex

import click
import pytest
from click.testing import CliRunner

from netdiag.cli.main import cli


def _leaf_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            out += _leaf_commands(command, prefix + (name,))
        else:
            out.append(prefix + (name,))
    return out


COMMANDS = _leaf_commands()


def _examples(help_text: str) -> list[str]:
    """The ``netdiag ...`` lines of the help's Example(s) section (continuations joined)."""
    lines, taking, current = [], False, ""
    for raw in help_text.splitlines():
        line = raw.strip()
        if line.startswith("Example"):
            taking = True
            continue
        if taking and (line.startswith("Options:") or (not line and not current and lines)):
            break
        if not taking or not line:
            continue
        current = f"{current} {line}".strip()
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        if "netdiag " in current:
            lines.append(current[current.index("netdiag "):].rstrip(" &"))
        current = ""
    return lines


def _unparsed(ctx: click.Context) -> list[str]:
    """What a group left for its subcommand (click 8.2 keeps the command name apart)."""
    protected = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args
    return [*protected, *ctx.args]


def _parse(args: list[str]) -> None:
    """Parse a command line the way `netdiag` would, without running the command."""
    ctx = cli.make_context("netdiag", list(args))
    command: click.Command = cli
    rest = _unparsed(ctx)
    while isinstance(command, click.Group):
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)
        rest = _unparsed(ctx) if isinstance(command, click.Group) else []


def test_there_is_a_command_for_every_job():
    assert {c[-1] for c in COMMANDS} >= {"validate", "diagnose", "check", "serve", "sample", "demo", "settings", "map",
                                         "report", "dispatch", "list", "show", "update", "close", "export"}


def _help(path: tuple[str, ...]) -> str:
    res = CliRunner().invoke(cli, [*path, "--help"], prog_name="netdiag")
    assert res.exit_code == 0, res.output
    assert "Usage: netdiag " + " ".join(path) in res.output
    return res.output


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example_that_parses(path):
    examples = _examples(_help(path))
    assert examples, f"`netdiag {' '.join(path)} --help` shows no example"
    for line in examples:
        words = shlex.split(line.split("|")[-1].strip())
        assert words[0] == "netdiag", line
        try:
            _parse(words[1:])
        except click.BadParameter as exc:
            if "does not exist" not in exc.format_message():  # a file the example makes first is fine here
                pytest.fail(f"example `{line}` does not parse: {exc.format_message()}")
        except click.UsageError as exc:  # an unknown flag, a bad choice or value
            pytest.fail(f"example `{line}` does not parse: {exc.format_message()}")


#: the order a new user would follow: a data set, the store, then the commands that read it
RUN_ORDER = [("sample",), ("validate",), ("prepare",), ("diagnose",), ("check",), ("map",), ("report",), ("settings",),
             ("dispatch",), ("tickets", "list"), ("tickets", "show"), ("tickets", "update"), ("tickets",),
             ("tickets", "close"), ("tickets", "export"), ("tickets", "migrate"), ("tickets", "init"), ("demo",),
             ("import",), ("evaluate",), ("serve",), ()]


def test_every_example_runs(tmp_path, monkeypatch):
    """Each example of every --help, run as written, in a folder that holds a (small) sample_data."""
    from netdiag.sample import generate

    assert {c for c in RUN_ORDER if c} >= set(COMMANDS)
    monkeypatch.chdir(tmp_path)
    generate(tmp_path / "sample_data", n_sites=60, seed=7)
    failures = []
    for path in RUN_ORDER:
        for line in _examples(_help(path)):
            if line.endswith("&") or line.split()[1] == "serve":
                continue  # a server that runs until stopped: tests/test_service.py runs it
            if "postgresql://" in line:
                continue  # the NOC's own server: the store tests run every command on a real one
            feed = None
            if "|" in line:
                left, line = (s.strip() for s in line.split("|", 1))
                feed = shlex.split(left)[1] + "\n"
            res = CliRunner().invoke(cli, shlex.split(line)[1:], input=feed, prog_name="netdiag")
            if res.exit_code != 0:
                failures.append(f"{line}\n    -> exit {res.exit_code}: {res.output.strip().splitlines()[-1:]}")
    assert not failures, "examples that do not run:\n" + "\n".join(failures)


def test_a_wrong_flag_in_an_example_would_be_caught():
    with pytest.raises(click.UsageError):
        _parse(["diagnose", "--data", "sample_data", "--outt", "x"])
    with pytest.raises(click.UsageError):
        _parse(["tickets", "list", "--status", "opened"])


def test_the_data_directory_is_given_the_same_way_everywhere(sample_dir, tmp_path):
    runner = CliRunner()
    for command in ("validate", "diagnose", "map", "report", "demo", "check", "serve"):
        help_text = runner.invoke(cli, [command, "--help"]).output
        assert "--data DATA_DIR" in help_text, command
    # the old spelling, the folder as the first argument, still works
    old = runner.invoke(cli, ["validate", str(sample_dir)])
    new = runner.invoke(cli, ["validate", "--data", str(sample_dir)])
    assert old.exit_code == new.exit_code == 0 and old.output == new.output
    both = runner.invoke(cli, ["validate", str(tmp_path), "--data", str(sample_dir)])
    assert both.exit_code == 2 and "given twice" in both.output
    missing = runner.invoke(cli, ["validate"])
    assert missing.exit_code == 2 and "give --data DATA_DIR" in missing.output


def test_out_says_whether_it_is_a_file_or_a_folder():
    runner = CliRunner()
    for path, kind in ((["diagnose"], "FOLDER"), (["validate"], "FOLDER"), (["report"], "FOLDER"), (["demo"], "FOLDER"),
                       (["dispatch"], "FOLDER"), (["map"], "FILE"), (["tickets", "export"], "FILE")):
        assert f"--out {kind}" in runner.invoke(cli, [*path, "--help"]).output, path


@pytest.mark.parametrize("path", [["diagnose", "--data", "x"], ["tickets", "export"]])
def test_a_required_out_that_is_missing_is_a_usage_error(path):
    res = CliRunner().invoke(cli, path)
    assert res.exit_code == 2 and "Missing option '--out'" in res.output


def test_a_mistyped_command_says_what_was_meant():
    res = CliRunner().invoke(cli, ["diagnos", "--data", "x"])
    assert res.exit_code == 2 and "No such command 'diagnos'. Did you mean 'diagnose'?" in res.output
    res = CliRunner().invoke(cli, ["frobnicate"])
    assert res.exit_code == 2 and "Commands: check, demo, diagnose" in res.output


def test_ticket_ids_and_status_names_in_any_case_and_one_line_when_nothing_matches(tmp_path, tiny_dir):
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["diagnose", "--data", str(tiny_dir), "--out", str(tmp_path / "o"), "--db", db]).exit_code == 0
    ticket = runner.invoke(cli, ["tickets", "list", "--db", db, "--format", "csv"]).output.splitlines()[1].split(",")[0]
    shown = runner.invoke(cli, ["tickets", "show", ticket.lower(), "--db", db])
    assert shown.exit_code == 0 and shown.output.splitlines()[1].startswith(ticket)
    listed = runner.invoke(cli, ["tickets", "list", "--db", db, "--status", "OPEN", "--team", "nobody"])
    assert listed.exit_code == 0 and listed.output.strip() == "no tickets match"
