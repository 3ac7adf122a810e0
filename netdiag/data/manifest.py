"""The manifest of a workspace (:mod:`netdiag.data.workspace`): standard library only, so that
``netdiag check`` can tell a workspace without loading the data stack.

A manifest is untrusted like every input: :func:`read_manifest` checks its shape and types, and
every file name it lists (complaint parts, days of counters and their parts) must be a plain
name of the form netdiag writes, so a hand-edited manifest can never point outside the workspace.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from netdiag.errors import InputError

FORMAT = 1
MANIFEST = "manifest.json"
#: what marks a manifest as a netdiag workspace's (an export folder may hold a manifest.json of its own)
KIND = "netdiag workspace"
_PART = re.compile(r"^part-\d{4}\.parquet$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


def is_workspace(path: str | Path) -> bool:
    """True for a folder holding a netdiag workspace manifest (a ``manifest.json`` of another kind
    is not one)."""
    path = Path(path) / MANIFEST
    if not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(4096)
    except (OSError, UnicodeError):
        return False
    return f'"kind": "{KIND}"' in head


def read_manifest(ws: str | Path) -> dict:
    """The manifest of workspace ``ws``, checked.

    Raises
    ------
    InputError
        When it is missing, unreadable, not a netdiag workspace's, of another format, or not
        of the shape netdiag writes (the message says what is wrong).
    """
    path = Path(ws) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{ws} is not a netdiag workspace (no {MANIFEST}); make one with "
                         f"`netdiag prepare --workspace {ws} DATA_DIR`, or give a data folder as --data") from None
    except (OSError, ValueError, UnicodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise InputError(f"{path} is not a netdiag workspace manifest; give a data folder as --data, "
                         f"a workspace as --workspace")
    if manifest.get("format") != FORMAT or isinstance(manifest.get("format"), bool):
        raise InputError(f"{path} is a workspace of format {str(manifest.get('format'))[:20]!r}; this netdiag reads "
                         f"format {FORMAT}: prepare a new workspace")
    problem = _shape_problem(manifest)
    if problem:
        raise InputError(f"{path} is damaged ({problem}); prepare a new workspace")
    return manifest


def _shape_problem(m: dict) -> str | None:
    """What is wrong with the shape of a manifest, or None."""
    def is_count(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    for key, kind in (("sources", dict), ("tables", dict), ("complaints", dict), ("load", dict), ("tz", str),
                      ("crs", str)):
        if not isinstance(m.get(key), kind):
            return f"`{key}` is missing or not a {kind.__name__}"
    parts = m["complaints"].get("parts")
    if not isinstance(parts, list) or not all(isinstance(p, str) and _PART.match(p) for p in parts):
        return "`complaints.parts` must list part-NNNN.parquet names"
    days = m["load"].get("days")
    if not isinstance(days, dict):
        return "`load.days` is not an object"
    for day, entry in days.items():
        if not _DAY.match(day) or not isinstance(entry, dict):
            return f"`load.days` has an entry {day[:30]!r} that is not a YYYY-MM-DD day"
        if not is_count(entry.get("rows")) or not isinstance(entry.get("parts"), list) \
                or not all(isinstance(p, str) and _PART.match(p) for p in entry["parts"]) \
                or not (isinstance(entry.get("latest"), str) and _TIME.match(entry["latest"])):
            return f"day {day} needs rows (a count), parts (part-NNNN.parquet names) and latest (a time)"
    for name, counts in m["tables"].items():
        if not isinstance(counts, dict) or not all(is_count(counts.get(k, 0)) for k in ("read", "accepted", "rejected")):
            return f"`tables.{str(name)[:30]}` needs counts"
    footprints = m.get("footprints")
    if footprints is not None and not (isinstance(footprints, dict) and isinstance(footprints.get("settings"), dict)):
        return "`footprints` is not an object with its settings"
    return None
