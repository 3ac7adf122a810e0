"""Alarms that name their network element (网元名称, ``SZ-Futian-0123``, ``锦江4``) -> the inventory's ids.

OMC alarm exports often give the NE by its name and the cell, if at all, by a location text
(定位信息 ``eNodeB名称=锦江4, 本地小区标识=1`` or ``小区名称=锦江4-1``), not by the ids the
工参表 gives the sites and cells. The alarms importer resolves such rows against the inventory
an earlier ``netdiag import params ... --out DATA_DIR`` wrote (``sites.csv``, ``cells.csv``;
or another data directory's, ``inventory``):

- NE name -> ``site_id`` by the sites' ``name``: the exact text first, then both sides
  normalised (:func:`name_key`: case, full-width forms, blanks, and the prefixes / suffixes
  that ``[options] ne_name_prefixes`` / ``ne_name_suffixes`` list, e.g. ``"基站"``);
- cell name -> ``cell_id`` by the cells' ``name`` (the 工参表's 小区名称), exact then normalised;
  a name two cells share is taken within the NE's site;
- site + local cell id -> ``cell_id``: the inventory's cell ids read back by the ``[ids] format``
  rule (``{node}-{cell}``), so a site whose 站号 is not its eNodeB id still meets its cells.

A row whose name matches nothing is rejected with what was looked for and where (``NE name
'锦江9' is not a site name in city/sites.csv``); a name that two sites share is rejected with
both ids. The summary counts the unresolved and ambiguous names, as it counts unmapped alarm
names. Everything is done in columns (maps over the distinct names), not row by row.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netdiag.errors import InputError
from netdiag.importers.ids import integers

#: the location texts of the usual OMCs, searched for an NE name, a cell name and a local cell id
LOCATION_PATTERNS = (
    r"(?:eNodeB|gNodeB|NodeB|BTS|网元)\s*名称\s*[=:：]\s*(?P<ne_name>[^,，;；]+)",
    r"小区名称\s*[=:：]\s*(?P<cell_name>[^,，;；]+)",
    r"(?:本地小区标识|小区标识|Local\s*Cell\s*ID|Cell\s*ID)\s*[=:：]\s*(?P<cell>\d+)",
)
_SEP = "\x1f"  # between the parts of a composite key


@dataclass(frozen=True)
class Inventory:
    """The sites and cells that alarm names are resolved against.

    ``sites``: ``site_id, name``; ``cells``: ``cell_id, site_id, name, local`` (``local`` = the
    local cell id read from ``cell_id`` by the id rule, ``""`` where it does not fit).
    """

    folder: Path
    sites: pd.DataFrame
    cells: pd.DataFrame
    sites_file: str
    cells_file: str


def name_key(names: pd.Series, *, prefixes=(), suffixes=()) -> pd.Series:
    """A name as compared: NFKC (full-width forms), no outer blanks, inner blanks as one,
    lower case, one listed prefix and one listed suffix taken off (the longest that fits).

    Examples
    --------
    >>> name_key(pd.Series(["锦江４ ", " SZ-Futian-0123", "ＳＺ－ＦＵＴＩＡＮ－０１２３", "锦江4基站"]),
    ...          suffixes=["基站"]).tolist()
    ['锦江4', 'sz-futian-0123', 'sz-futian-0123', '锦江4']
    """
    text = names.fillna("").astype(str).map(lambda v: unicodedata.normalize("NFKC", v))
    text = text.str.replace(r"\s+", " ", regex=True).str.strip().str.lower()

    def affixes(words):
        keys = sorted({unicodedata.normalize("NFKC", w).strip().lower() for w in words} - {""}, key=len, reverse=True)
        return "|".join(re.escape(k) for k in keys)
    if prefixes:
        text = text.str.replace(f"^(?:{affixes(prefixes)})", "", regex=True).str.strip()
    if suffixes:
        text = text.str.replace(f"(?:{affixes(suffixes)})$", "", regex=True).str.strip()
    return text


def lookup(wanted: pd.Series, keys: pd.Series, ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per value of ``wanted``: (the one id whose key it is, ``""`` if none or several; the ids
    when several, as ``"a, b"``, else ``""``). One map over the distinct keys.

    Examples
    --------
    >>> one, many = lookup(pd.Series(["x", "y", "z"]), pd.Series(["x", "y", "y"]), pd.Series(["S1", "S2", "S3"]))
    >>> one.tolist(), many.tolist()
    (['S1', '', ''], ['', 'S2, S3', ''])
    """
    table = pd.DataFrame({"key": keys.to_numpy(), "id": ids.to_numpy()})
    table = table[table["key"] != ""].drop_duplicates()
    grouped = table.groupby("key")["id"].agg(lambda v: sorted(v))
    found = wanted.map(grouped)
    count = found.map(lambda v: len(v) if isinstance(v, list) else 0)
    one = found.where(count == 1).map(lambda v: v[0] if isinstance(v, list) else "")
    many = found.where(count > 1).map(lambda v: ", ".join(v) if isinstance(v, list) else "")
    return one.fillna("").astype(object), many.fillna("").astype(object)


def load_inventory(folder: str | Path, id_format: str = "{node}-{cell}") -> Inventory | None:
    """The sites and cells of a data directory (``None`` when it has no sites table).

    Raises
    ------
    InputError
        The tables are unreadable, or lack ``site_id`` / ``name`` / ``cell_id``.
    """
    from netdiag.data.read import find_table

    folder = Path(folder)
    if not folder.is_dir():
        return None
    sites_src = find_table(folder, "sites")
    if sites_src is None:
        return None
    cells_src = find_table(folder, "cells")
    sites = _read(sites_src, ["site_id", "name"])
    if cells_src is None:
        cells = pd.DataFrame({c: pd.Series(dtype=object) for c in ("cell_id", "site_id", "name")})
    else:
        cells = _read(cells_src, ["cell_id", "site_id", "name"])
    if "site_id" not in sites or "name" not in sites:
        raise InputError(f"{sites_src.path} has no columns site_id and name: NE names cannot be resolved against it")
    if "cell_id" not in cells or "site_id" not in cells:
        raise InputError(f"{cells_src.path} has no columns cell_id and site_id")
    if "name" not in cells:
        cells["name"] = ""
    cells = cells.assign(local=local_cell(cells["cell_id"], id_format))
    return Inventory(folder, sites[["site_id", "name"]], cells[["cell_id", "site_id", "name", "local"]],
                     str(sites_src.path), str(cells_src.path) if cells_src else str(folder / "cells.csv"))


def _read(source, columns: list[str]) -> pd.DataFrame:
    """The columns (those there) of an inventory table as stripped text; a CSV or Parquet
    table keeps its ``name`` column, which is outside the contract's cells."""
    from netdiag.data.csv_reader import read_csv
    from netdiag.data.read import read_source

    if source.fmt == "csv":
        frame = read_csv(source.path, wanted=set(columns), key=columns[0], name=str(source))
    elif source.fmt == "parquet":
        frame = pd.read_parquet(source.path)
    else:
        frame = read_source(source)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    out = pd.DataFrame({c: frame[c].astype(object).where(frame[c].notna(), "").astype(str).str.strip()
                        for c in columns if c in frame.columns})
    return out


def local_cell(cell_ids: pd.Series, id_format: str) -> pd.Series:
    """The local cell id in each cell id built by ``id_format`` (``""`` where it does not fit).

    Examples
    --------
    >>> local_cell(pd.Series(["510001-1", "510001-12", "C0001"]), "{node}-{cell}").tolist()
    ['1', '12', '']
    """
    pattern = "^" + re.escape(id_format).replace(re.escape("{node}"), r"(?P<node>.+?)").replace(
        re.escape("{cell}"), r"(?P<cell>\d+)") + "$"
    parts = cell_ids.astype(str).str.extract(pattern)
    canon, _ = integers(parts["cell"].fillna(""))
    return canon


def location_parts(location: pd.Series, patterns) -> pd.DataFrame:
    """``ne_name``, ``cell_name``, ``cell`` found in the location texts (``""`` where not).

    Examples
    --------
    >>> location_parts(pd.Series(["eNodeB名称=锦江4, 本地小区标识=1", "小区标识=2", "柜号=0"]),
    ...                LOCATION_PATTERNS).values.tolist()
    [['锦江4', '', '1'], ['', '', '2'], ['', '', '']]
    """
    out = pd.DataFrame("", index=location.index, columns=["ne_name", "cell_name", "cell"], dtype=object)
    for pattern in patterns:
        try:
            found = location.str.extract(pattern)
        except (re.error, ValueError) as exc:
            raise InputError(f"[options] location_patterns: {pattern!r} is not a usable regular expression: {exc}") from None
        groups = [g for g in found.columns if g in out.columns]
        if not groups:
            raise InputError(f"[options] location_patterns: {pattern!r} has none of the groups (?P<ne_name>...), "
                             f"(?P<cell_name>...), (?P<cell>...)")
        for g in groups:
            value = found[g].fillna("").astype(str).str.strip()
            out[g] = out[g].where(out[g] != "", value)
    return out


def resolve(job, need: np.ndarray, inventory) -> tuple[pd.Series, np.ndarray]:
    """(the element id, a cell or else a site, of the rows in ``need`` from their NE name and
    cell name or local cell id, ``""`` elsewhere and where unresolved (those rows rejected);
    the rows that named an element). ``inventory`` is called, once, only when a row needs it,
    and returns the :class:`Inventory`.

    Every name a row gives must resolve: a cell name to one cell (of the NE's site when the
    NE is named too), an NE name to one site, a local cell id to one cell of that site.
    Fills ``job.summary``: ``resolved_by_name`` (rows), ``unresolved_names`` (what was looked
    for -> rows) and ``ambiguous_names`` (name -> rows).
    """
    opts = job.profile.options
    prefixes, suffixes = opts.get("ne_name_prefixes", ()), opts.get("ne_name_suffixes", ())
    index = job.frame.index
    need = pd.Series(np.asarray(need, bool), index=index)
    loc = location_parts(job.text("location").where(need, ""), opts.get("location_patterns", LOCATION_PATTERNS))
    ne = job.text("ne_name")
    ne = ne.where(ne != "", loc["ne_name"])
    cell_name = job.text("cell_name")
    cell_name = cell_name.where(cell_name != "", loc["cell_name"])
    local_raw = job.text("local_cell_id")
    local_raw = local_raw.where(local_raw != "", loc["cell"])
    local, local_bad = integers(local_raw)
    local_bad = pd.Series(local_bad, index=index)
    handled = need & ((ne != "") | (cell_name != ""))
    if not handled.any():
        return pd.Series("", index=index, dtype=object), handled.to_numpy()
    inventory = inventory()
    sites, cells = inventory.sites, inventory.cells
    element = pd.Series("", index=index, dtype=object)
    unresolved = pd.Series("", index=index, dtype=object)
    ambiguous = pd.Series("", index=index, dtype=object)
    shown, c_shown = "NE name '" + ne + "'", "cell name '" + cell_name + "'"

    # NE name -> site: the exact text, then both sides normalised
    named = need & (ne != "")
    site, many = lookup(ne.where(named, ""), sites["name"], sites["site_id"])
    again = named & (site == "") & (many == "")
    site2, many2 = lookup(name_key(ne.where(again, ""), prefixes=prefixes, suffixes=suffixes),
                          name_key(sites["name"], prefixes=prefixes, suffixes=suffixes), sites["site_id"])
    site, many = site.where(~again, site2), many.where(~again, many2)
    if (again & (site2 != "")).any():
        job.note("ne_name", int((again & (site2 != "")).sum()),
                 "matched a site name once normalised (case, full-width forms, blanks, prefixes/suffixes)")
    bad = named & (site == "") & (many == "")
    job.reject(bad.to_numpy(), shown + " is not a site name in " + inventory.sites_file)
    unresolved[bad] = ne[bad]
    amb = named & (many != "")
    job.reject(amb.to_numpy(), shown + " is ambiguous: sites " + many + " in " + inventory.sites_file +
               " all have that name (rename one in the inventory, or give the NE id)")
    ambiguous[amb] = ne[amb]
    have_site = named & (site != "")

    # cell name -> cell: exact, then normalised; within the NE's site when several cells share it
    c_named = need & (cell_name != "")
    c_key = name_key(cells["name"])
    by_name, c_many = lookup(cell_name.where(c_named, ""), cells["name"], cells["cell_id"])
    again = c_named & (by_name == "") & (c_many == "")
    n2, m2 = lookup(name_key(cell_name.where(again, "")), c_key, cells["cell_id"])
    by_name, c_many = by_name.where(~again, n2), c_many.where(~again, m2)
    scoped = c_named & (c_many != "") & have_site
    n3, m3 = lookup((site + _SEP + name_key(cell_name)).where(scoped, ""), cells["site_id"] + _SEP + c_key,
                    cells["cell_id"])
    took = scoped & (n3 != "")
    by_name, c_many = by_name.where(~took, n3), c_many.where(~took, "")
    bad = c_named & (by_name == "") & (c_many == "")
    job.reject(bad.to_numpy(), c_shown + " is not a cell name in " + inventory.cells_file)
    unresolved[bad & (unresolved == "")] = ("cell " + cell_name)[bad & (unresolved == "")]
    amb = c_named & (c_many != "")
    job.reject(amb.to_numpy(), c_shown + " is ambiguous: cells " + c_many + " in " + inventory.cells_file +
               " all have that name")
    ambiguous[amb & (ambiguous == "")] = ("cell " + cell_name)[amb & (ambiguous == "")]
    cell_site = by_name.map(dict(zip(cells["cell_id"], cells["site_id"]))).fillna("")
    wrong = c_named & (by_name != "") & have_site & (cell_site != site)
    job.reject(wrong.to_numpy(), c_shown + " is cell " + by_name + " of site " + cell_site + ", not of " + shown +
               " (site " + site + ")")
    ok = c_named & (by_name != "") & ~wrong
    element[ok] = by_name[ok]

    # NE's site + local cell id -> cell, by the [ids] rule read back from the inventory's cell ids
    job.reject((named & ~c_named & local_bad).to_numpy(), "local cell id '" + local_raw + "' is not a whole number")
    by_local = have_site & ~c_named & (local != "")
    cell, l_many = lookup((site + _SEP + local).where(by_local, ""), cells["site_id"] + _SEP + cells["local"],
                          cells["cell_id"])
    bad = by_local & (cell == "") & (l_many == "")
    job.reject(bad.to_numpy(), shown + " (site " + site + ") has no cell with local cell id " + local + " in " +
               inventory.cells_file)
    unresolved[bad] = (ne + " / local cell " + local)[bad]
    amb = by_local & (l_many != "")
    job.reject(amb.to_numpy(), shown + " (site " + site + ") local cell id " + local + " is ambiguous: cells " +
               l_many + " in " + inventory.cells_file + " (give the cell name or ECI)")
    ambiguous[amb & (ambiguous == "")] = (ne + " / local cell " + local)[amb & (ambiguous == "")]
    ok = by_local & (cell != "")
    element[ok] = cell[ok]

    # the NE itself: the site
    ok = have_site & ~c_named & (local == "") & ~local_bad
    element[ok] = site[ok]

    done = need & (element != "")
    job.summary["resolved_by_name"] = int((done & ~pd.Series(job.bad, index=index)).sum())
    job.summary["unresolved_names"] = {str(k): int(v) for k, v in unresolved[unresolved != ""].value_counts().items()}
    job.summary["ambiguous_names"] = {str(k): int(v) for k, v in ambiguous[ambiguous != ""].value_counts().items()}
    return element.where(done, ""), handled.to_numpy()
