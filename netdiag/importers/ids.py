"""Cell ids from what exports carry: ECI (decimal or hex), NCI, CGI, eNodeB/gNodeB id + cell id,
a text such as ``eNodeB标识=100001, 本地小区标识=1``, or a cell id column as it is.

Every importer builds ids by the same rule, so that the parameter table's cells, the alarms'
and counters' cells meet: ``[ids] format`` (default ``{node}-{cell}``) joins the node (eNodeB
or gNodeB id) and the local cell id. The ``[ids]`` keys of a profile:

``cell``
    ``auto`` (default: per row, the first of CGI, ECI, NCI, node + cell, the pattern, the
    ``cell_id`` column that the row has), or one of ``cgi``, ``eci``, ``nci``, ``node_cell``,
    ``pattern``, ``column``.
``eci_base``
    ``auto`` (default): ``0x...`` or a value with a letter a-f is hex, digits alone are decimal;
    ``dec`` or ``hex`` to say so for the whole column (a hex ECI without a letter is otherwise
    read as decimal).
``gnb_id_bits``
    length of the gNodeB id inside the 36-bit NCI (22..32, default 24).
``pattern``
    a regular expression with the groups ``node`` and ``cell``, searched in the ``cell_text`` column.

ECI = eNodeB id x 256 + cell id (TS 36.413); NCI = gNodeB id x 2^(36 - gnb_id_bits) + cell id (TS 38.413).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from netdiag.errors import InputError

RULES = ("auto", "cgi", "eci", "nci", "node_cell", "pattern", "column")


def _ints(text: pd.Series, base: str) -> pd.Series:
    """Text -> non-negative integers (int64; -1 where the text is not one)."""
    t = text.str.strip().str.lower()
    is_hex = t.str.startswith("0x") | t.str.contains(r"[a-f]", regex=True) if base == "auto" else (
        pd.Series(base == "hex", index=t.index))
    body = t.str.replace(r"^0x", "", regex=True)
    ok = body.str.fullmatch(r"[0-9a-f]+") & (is_hex | body.str.fullmatch(r"\d+"))
    ok &= body.str.len() <= 15  # an id of at most 60 bits
    out = pd.Series(-1, index=t.index, dtype="int64")
    hex_rows = ok & is_hex
    dec_rows = ok & ~is_hex
    if hex_rows.any():  # no vectorised hex parser in pandas; hex ids are the minority
        out[hex_rows] = body[hex_rows].map(lambda v: int(v, 16)).astype("int64")
    if dec_rows.any():
        out[dec_rows] = pd.to_numeric(body[dec_rows]).astype("int64")
    return out


def cell_ids(job, *, required: bool = True) -> tuple[pd.Series, pd.Series]:
    """(cell_id, node) per row of ``job`` by the profile's ``[ids]`` rule; ``""`` where none.

    A row whose id cannot be built is rejected with the reason (``ECI 'zz' is not a number``).
    """
    ids = job.profile.ids
    rule = ids.get("cell", "auto")
    if rule not in RULES:
        raise InputError(f"profile {job.profile.name}: [ids] cell was {rule!r} but is expected to be one of {', '.join(RULES)}")
    fmt = ids.get("format", "{node}-{cell}")
    if "{node}" not in fmt or "{cell}" not in fmt:
        raise InputError(f"profile {job.profile.name}: [ids] format was {fmt!r}; it must hold {{node}} and {{cell}}")
    bits = int(ids.get("gnb_id_bits", 24))
    if not 22 <= bits <= 32:
        raise InputError(f"profile {job.profile.name}: [ids] gnb_id_bits was {bits}, expected 22..32")
    base = ids.get("eci_base", "auto")
    n = len(job.frame)
    node = pd.Series("", index=job.frame.index, dtype=object)
    cell = pd.Series("", index=job.frame.index, dtype=object)
    done = np.zeros(n, bool)
    direct = pd.Series("", index=job.frame.index, dtype=object)

    def take(rows, nodes, cells):
        nonlocal done
        rows = np.asarray(rows, bool) & ~done
        node[rows] = nodes[rows].astype(str)
        cell[rows] = cells[rows].astype(str)
        done |= rows

    order = [rule] if rule != "auto" else ["cgi", "eci", "nci", "node_cell", "pattern", "column"]
    for step in order:
        if step == "cgi" and job.header("cgi"):
            raw = job.text("cgi")
            parts = raw.str.extract(r"^\s*\d{3}[-_.]\d{2,3}[-_.](\d+)[-_.](\d+)\s*$")
            given = (raw != "").to_numpy()
            ok = parts[0].notna().to_numpy()
            job.reject(given & ~ok & ~done, job.label("cgi") + " '" + raw + "' is not MCC-MNC-NODE-CELL")
            take(given & ok, parts[0], parts[1])
        elif step in ("eci", "nci") and job.header(step):
            raw = job.text(step)
            given = (raw != "").to_numpy()
            value = _ints(raw, base)
            ok = (value >= 0).to_numpy()
            job.reject(given & ~ok & ~done, job.label(step) + " '" + raw + "' is not a decimal or hex number")
            shift = 8 if step == "eci" else 36 - bits
            v = value.to_numpy()
            take(given & ok, pd.Series(v >> shift, index=value.index), pd.Series(v & ((1 << shift) - 1), index=value.index))
        elif step == "node_cell" and job.header("node_id") and job.header("local_cell_id"):
            a, b = job.text("node_id"), job.text("local_cell_id")
            take((a != "") & (b != ""), a, b)
        elif step == "pattern" and ids.get("pattern") and job.header("cell_text"):
            try:
                parts = job.text("cell_text").str.extract(ids["pattern"])
            except (re.error, ValueError) as exc:
                raise InputError(f"profile {job.profile.name}: [ids] pattern is not a usable regular expression "
                                 f"with groups node and cell: {exc}") from None
            if not {"node", "cell"} <= set(parts.columns):
                raise InputError(f"profile {job.profile.name}: [ids] pattern needs the groups (?P<node>...) and (?P<cell>...)")
            take(parts["node"].notna() & parts["cell"].notna(), parts["node"], parts["cell"])
        elif step == "column" and job.header("cell_id"):
            raw = job.text("cell_id")
            rows = (raw != "").to_numpy() & ~done
            direct[rows] = raw[rows]
            done |= rows
    built = node != ""
    out = direct.copy()
    head, _, rest = fmt.partition("{node}")
    if "{cell}" in rest:
        mid, _, tail = rest.partition("{cell}")
        out[built] = head + node[built] + mid + cell[built] + tail
    else:  # "{cell}" before "{node}"
        head, _, rest = fmt.partition("{cell}")
        mid, _, tail = rest.partition("{node}")
        out[built] = head + cell[built] + mid + node[built] + tail
    if required:
        job.reject(~done & ~job.bad, "no cell id: " + _which(job, order))
    return out, node


def _which(job, order) -> str:
    names = {"cgi": "CGI", "eci": "ECI", "nci": "NCI", "node_cell": "node id and local cell id",
             "pattern": "cell text matching [ids] pattern", "column": "cell id"}
    return " / ".join(names[s] for s in order) + " empty"
