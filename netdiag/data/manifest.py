"""The manifest of a workspace (:mod:`netdiag.data.workspace`): standard library only, so that
``netdiag check`` can tell a workspace without loading the data stack."""
from __future__ import annotations

import json
from pathlib import Path

from netdiag.errors import InputError

FORMAT = 1
MANIFEST = "manifest.json"


def is_workspace(path: str | Path) -> bool:
    """True for a folder holding a workspace manifest."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(ws: str | Path) -> dict:
    """The manifest of workspace ``ws``.

    Raises
    ------
    InputError
        When it is missing, unreadable, or written by a newer netdiag.
    """
    path = Path(ws) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{ws} is not a netdiag workspace (no {MANIFEST}); make one with "
                         f"`netdiag prepare DATA --workspace {ws}`") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path} is a workspace of format {manifest.get('format') if isinstance(manifest, dict) else '?'}, "
                         f"this netdiag reads format {FORMAT}; prepare it again")
    return manifest
