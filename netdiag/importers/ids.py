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
import unicodedata

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


def integers(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Decimal text -> (the integer as canonical text, ``""`` where not one; mask of values given
    but not a whole number). ``01``, ``0510004``, ``1.0`` and ``１`` are ``1``, ``510004``, ``1``, ``1``.

    Examples
    --------
    >>> t, bad = integers(pd.Series(["01", "0510004", "1.0", "1.5", "", "x"]))
    >>> t.tolist(), bad.tolist()
    (['1', '510004', '1', '', '', ''], [False, False, False, True, False, True])
    """
    t = text.fillna("").astype(str).str.strip()
    wide = t.str.contains(r"[\uff10-\uff19]", regex=True)
    if wide.any():
        t = t.where(~wide, t[wide].map(lambda v: unicodedata.normalize("NFKC", v)))
    parts = t.str.extract(r"^\+?0*(\d+?)(?:\.0*)?$")[0]
    ok = parts.notna() & (t.str.len() <= 40)
    out = parts.where(ok, "").astype(object)
    return out, ((t != "") & ~ok).to_numpy()


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

    def take(rows, nodes, cells, what):
        """Node and local cell numbers compared as integers (``01`` = ``1``), so that every table's ids meet."""
        nonlocal done
        rows = np.asarray(rows, bool) & ~done
        n_text, n_bad = integers(pd.Series(nodes, index=node.index).where(rows, ""))
        c_text, c_bad = integers(pd.Series(cells, index=node.index).where(rows, ""))
        job.reject(rows & (n_bad | c_bad), what + " is not a whole number (node " +
                   pd.Series(nodes, index=node.index).astype(str).str.slice(0, 30) + ", cell " +
                   pd.Series(cells, index=node.index).astype(str).str.slice(0, 30) + ")")
        rows &= ~n_bad & ~c_bad
        node[rows] = n_text[rows]
        cell[rows] = c_text[rows]
        done |= rows

    order = [rule] if rule != "auto" else ["cgi", "eci", "nci", "node_cell", "pattern", "column"]
    for step in order:
        if step == "cgi" and job.header("cgi"):
            raw = job.text("cgi")
            parts = raw.str.extract(r"^\s*\d{3}[-_.]\d{2,3}[-_.](\d+)[-_.](\d+)\s*$")
            given = (raw != "").to_numpy()
            ok = parts[0].notna().to_numpy()
            job.reject(given & ~ok & ~done, job.label("cgi") + " '" + raw + "' is not MCC-MNC-NODE-CELL")
            take(given & ok, parts[0], parts[1], job.label("cgi"))
        elif step in ("eci", "nci") and job.header(step):
            raw = job.text(step)
            given = (raw != "").to_numpy()
            value = _ints(raw, base)
            ok = (value >= 0).to_numpy()
            job.reject(given & ~ok & ~done, job.label(step) + " '" + raw + "' is not a decimal or hex number")
            width = 28 if step == "eci" else 36  # TS 36.413 / 38.413
            too_big = given & ok & (value >= (1 << width)).to_numpy()
            job.reject(too_big & ~done, job.label(step) + " '" + raw + f"' is beyond {width} bits (an {step.upper()} "
                       f"is below 2^{width} = {1 << width})")
            ok = ok & ~too_big
            shift = 8 if step == "eci" else 36 - bits
            v = value.to_numpy()
            take(given & ok, pd.Series(v >> shift, index=value.index), pd.Series(v & ((1 << shift) - 1), index=value.index),
                 job.label(step))
        elif step == "node_cell" and job.header("node_id") and job.header("local_cell_id"):
            a, b = job.text("node_id"), job.text("local_cell_id")
            take((a != "") & (b != ""), a, b, job.label("node_id") + " / " + job.label("local_cell_id"))
        elif step == "pattern" and ids.get("pattern") and job.header("cell_text"):
            try:
                parts = job.text("cell_text").str.extract(ids["pattern"])
            except (re.error, ValueError) as exc:
                raise InputError(f"profile {job.profile.name}: [ids] pattern is not a usable regular expression "
                                 f"with groups node and cell: {exc}") from None
            if not {"node", "cell"} <= set(parts.columns):
                raise InputError(f"profile {job.profile.name}: [ids] pattern needs the groups (?P<node>...) and (?P<cell>...)")
            take(parts["node"].notna() & parts["cell"].notna(), parts["node"], parts["cell"], job.label("cell_text"))
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


def node_text(job, column: str) -> pd.Series:
    """An element / site id column as given, except where it is the same export column as the
    node id (``站号`` = ``eNodeB ID``): there whole numbers are canonical (``0510004`` -> ``510004``),
    as in the cell ids built from it."""
    raw = job.text(column)
    header = job.header(column)
    if header is None or header != job.header("node_id"):
        return raw
    canon, _ = integers(raw)
    return canon.where(canon != "", raw)


def _which(job, order) -> str:
    names = {"cgi": "CGI", "eci": "ECI", "nci": "NCI", "node_cell": "node id and local cell id",
             "pattern": "cell text matching [ids] pattern", "column": "cell id"}
    return " / ".join(names[s] for s in order) + " empty"
