"""``netdiag check``: one spot, right now, for a complaint handler with the customer waiting.

What serves the spot, the status of each serving element and everything upstream of it at
that time, active and recent alarms, load in that hour, the verdict with evidence, the
action, an existing ticket for the same fault, and the reply to read out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from netdiag.data.coords import to_wgs84
from netdiag.data.display import display_zone, local_text
from netdiag.data.schema import CAUSE_RANK, COORD_SYSTEMS
from netdiag.data.times import parse_at
from netdiag.data.values import plain
from netdiag.engine import actions
from netdiag.engine.diagnose import evaluate
from netdiag.engine.network import Network
from netdiag.errors import InputError, OutsideNetworkError

PREVIEW_EVENTS = 20


#: the tables a check needs (no complaints: the handler's spot is the complaint)
NETWORK_TABLES = ("transport", "sites", "cells", "repeaters", "events", "load")


def load_network(data_dir, settings, *, at: pd.Timestamp | None = None, near: tuple | None = None,
                 reader=None) -> Network:
    """Read and prepare the network of ``data_dir`` for checks.

    With ``at``, only the load counters around that moment are read (its look-back window and
    the sleeping-cell baseline), so one check on a large data set stays quick; without it every
    counter is read (a server answering any time, or a stream of queries).

    With ``near`` = (lat, lon, coord_system) and a prepared workspace, only what may serve that
    spot is read (:func:`netdiag.data.workspace.local_tables`): the answer is the same, and a
    check takes as long at 50,000 sites as at 300. ``reader``: a
    :class:`~netdiag.data.workspace.WorkspaceReader` that keeps the tables between checks.
    """
    from netdiag.data.dataset import load_dataset, load_period
    from netdiag.data.workspace import is_workspace, open_workspace
    from netdiag.engine.network import prepare

    window = load_period(at - pd.Timedelta(hours=settings.lookback_h), at, settings) if at is not None else None
    if near is not None and is_workspace(data_dir):
        lat, lon, system = near
        system = COORD_SYSTEMS.get(str(system).strip().lower(), "wgs84")
        wlon, wlat = to_wgs84([lon], [lat], [system])
        ds = open_workspace(data_dir, settings=settings, load_window=window, tables=NETWORK_TABLES,
                            area=(float(wlon[0]), float(wlat[0])), reader=reader)
    else:
        ds = load_dataset(data_dir, settings=settings, load_window=window, tables=NETWORK_TABLES)
    return prepare(ds, settings=settings)


def check_point(net: Network, lat: float, lon: float, *, coord_system: str = "wgs84", at: pd.Timestamp,
                indoor: bool = False, tickets: pd.DataFrame | None = None, zone_note: str = "") -> dict:
    """Everything a handler needs about one spot at one time (a plain dict, JSON-ready).

    ``zone_note`` (:func:`netdiag.data.display.decide_zone`) says that the display zone is a
    fixed offset guessed from the data or a fallback; it is shown in ``warning``.

    Times in the dict are ISO 8601 in UTC (``+00:00``), exact whatever the display zone;
    ``display_tz`` names the zone the screen (:func:`netdiag.views.check_screen.format_check`),
    the evidence, the warning and the reply show them in.

    Raises
    ------
    OutsideNetworkError
        A position outside the network's area.
    InputError
        A position that is not a latitude/longitude, or an unknown coordinate system.
    """
    system = COORD_SYSTEMS.get(str(coord_system).strip().lower())
    if system is None:
        raise InputError(f"`coord_system` was {coord_system!r} but is expected to be one of wgs84, gcj02, bd09")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"position ({lat}, {lon}) is not a valid latitude/longitude")
    wlon, wlat = to_wgs84([lon], [lat], [system])
    settings = net.settings
    period = pd.Timedelta(minutes=settings.period_min)
    w_start = at.floor(period)
    point = pd.DataFrame({"complaint_id": ["(check)"], "lat": wlat, "lon": wlon, "indoor": [indoor], "w_start": [w_start],
                          "w_end": [w_start + period], "occurred_at": [at], "received_at": [at], "coord_system": [system],
                          "category": ["other"], "vip": [False], "channel": [None], "customer_id": [None], "description": [None]})
    verdicts, candidates = evaluate(net, point)
    nearest_m = float(verdicts.loc[0, "nearest_site_m"])
    if not np.isfinite(nearest_m) or nearest_m > settings.max_complaint_distance_km * 1000:
        raise OutsideNetworkError(f"position ({lat}, {lon}) is {nearest_m / 1000:,.0f} km from the nearest site: outside the "
                         f"network's area (check the coordinates and `coord_system`)")
    decided = actions.decide(net, point, verdicts)
    ticket = _existing_ticket(tickets, decided.loc[0, "element_id"], decided.loc[0, "cause"])
    if ticket is not None:  # the customer joins that ticket: promised what it says
        decided = actions.replies_by_tickets(net, decided.assign(ticket_id=ticket["ticket_id"]), tickets)
    diag = decided.iloc[0]
    serving = [s for s in str(verdicts.loc[0, "serving_ids"]).split(";") if s]
    until = net.data_until()
    reply = {"zh": diag["reply_zh"], "en": diag["reply_en"]}
    warning = None
    zone = display_zone(settings)
    if until is None or w_start >= until:
        seen = f"the latest seen ends at {local_text(until, zone)}" if until is not None else "there are none"
        warning = (f"no counters or alarms reach this time ({seen}; the window is {local_text(w_start, zone)} to "
                   f"{local_text(w_start + period, zone)}): the verdict cannot be trusted and the reply promises nothing")
        reply = dict(actions.NO_DATA_REPLY)
    if zone_note:  # the zone is a guess or a fallback: the handler reads it here, not only on stderr
        warning = f"{warning}. {zone_note[0].upper()}{zone_note[1:]}" if warning else zone_note[0].upper() + zone_note[1:]
    result = {
        "position": {"lat": round(float(wlat[0]), 6), "lon": round(float(wlon[0]), 6), "given": [lat, lon],
                     "coord_system": system, "indoor": indoor},
        "at": at.isoformat(), "window": [w_start.isoformat(), (w_start + period).isoformat()],
        "serving": _serving_status(net, serving, candidates, at),
        "events": _events(net, serving, at),
        "load": _load(net, serving, w_start, w_start + period),
        "verdict": {k: _plain(diag[k]) for k in ("cause", "element_id", "via", "action", "team", "confidence", "evidence")},
        "ticket": ticket,
        "reply": reply,
        "nearest_site": {"site_id": verdicts.loc[0, "nearest_site"], "distance_m": round(nearest_m)},
        "data_until": until.isoformat() if until is not None else None,
        "display_tz": zone,
    }
    if warning:
        result["warning"] = warning
    return result


#: the reply when the data does not cover the time asked: no cause, no deadline, nothing promised


def _plain(value):
    """A scalar for the handler's screen and JSON: plain Python, missing as ``""``."""
    value = plain(value)
    return "" if value is None else value


def _serving_status(net: Network, serving: list[str], candidates: pd.DataFrame, at: pd.Timestamp) -> list[dict]:
    fp = net.footprints.set_index("element_id")
    out = []
    for element in serving:
        row = fp.loc[[element]].iloc[0]
        found = candidates[candidates["serving_element"] == element] if len(candidates) else candidates
        status = "in service"
        if len(found):
            top = found.sort_values("cause", key=lambda s: s.map(CAUSE_RANK), kind="stable").iloc[0]
            status = f"{top['cause']} ({top['element_id']})"
        out.append({"element_id": element, "kind": row["kind"], "site_id": _plain(row["site_id"]),
                    "chain": ">".join(net.topology.path(element)), "radius_m": round(float(row["radius_m"])),
                    "radius_source": row["radius_source"], "status": status})
    return out


def _events(net: Network, serving: list[str], at: pd.Timestamp) -> list[dict]:
    """Active and recent (look-back window) events on the serving elements and upstream."""
    chain = set()
    for element in serving:
        chain.update(net.topology.path(element))
    ev = net.ds["events"]
    ev = ev[ev["element_id"].isin(chain)]
    since = at - pd.Timedelta(hours=net.settings.lookback_h)
    end = ev["end_time"].fillna(pd.Timestamp("2262-01-01", tz="UTC"))
    ev = ev[(ev["start_time"] <= at) & (end >= since)].sort_values("start_time", ascending=False).head(PREVIEW_EVENTS)
    active = (ev["start_time"] <= at) & (ev["end_time"].isna() | (ev["end_time"] > at))
    return [{"event_id": r.event_id, "element_id": r.element_id, "type": r.event_type, "severity": r.severity,
             "start": r.start_time.isoformat(), "end": r.end_time.isoformat() if pd.notna(r.end_time) else "",
             "active": bool(a), "detail": _plain(r.detail)} for r, a in zip(ev.itertuples(), active)]


def _load(net: Network, serving: list[str], start, end) -> list[dict]:
    cells = set()
    for element in serving:
        cells.update(p for p in net.topology.path(element) if net.topology.kind.get(p) == "cell")
    rows = net.ds.counters.rows(cells, start, end)
    reported = set(rows["cell_id"])
    out = [{"cell_id": r.cell_id, "timestamp": r.timestamp.isoformat(), "prb_dl_pct": _plain(r.prb_dl_pct),
            "ul_noise_dbm": _plain(r.ul_noise_dbm), "users": _plain(r.users)} for r in rows.itertuples()]
    out += [{"cell_id": c, "timestamp": start.isoformat(), "missing": True} for c in sorted(cells - reported)]
    return out


def _existing_ticket(tickets: pd.DataFrame | None, element_id, cause) -> dict | None:
    """The open ticket for the same root element and cause, among ``tickets`` (the open ones)."""
    if tickets is None or not element_id:
        return None
    same = tickets[(tickets["element_id"].astype(str) == str(element_id)) & (tickets["cause"] == cause)]
    if same.empty:
        return None
    t = same.iloc[-1]
    return {k: (t[k].isoformat() if isinstance(t[k], pd.Timestamp) else _plain(t[k]))
            for k in ("ticket_id", "status", "priority", "team", "complaint_count", "due_at")}


def parse_query(line: str, *, tz: str) -> dict:
    """One line of an interactive ``netdiag check``: ``LAT,LON[,TIME[,SYSTEM[,indoor]]]``.

    Examples
    --------
    >>> parse_query("22.54, 114.06, 2026-11-05T20:30+08:00, gcj02, indoor", tz="UTC")["coord_system"]
    'gcj02'

    Raises
    ------
    InputError
        When the line does not have that shape (the message says what came).
    """
    parts = [p.strip() for p in line.split(",")]
    if len(parts) < 2:
        raise InputError(f"{line.strip()!r} is expected to look like LAT,LON[,TIME[,SYSTEM[,indoor]]]")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(f"{line.strip()!r}: LAT and LON must be numbers") from None
    extra = parts[2:]
    indoor = bool(extra) and extra[-1].lower() in ("indoor", "indoors", "in", "true", "yes")
    if indoor:
        extra = extra[:-1]
    system = extra[1] if len(extra) > 1 else "wgs84"
    if len(extra) > 2:
        raise InputError(f"{line.strip()!r} has too many fields; expected LAT,LON[,TIME[,SYSTEM[,indoor]]]")
    return {"lat": lat, "lon": lon, "at": parse_at(extra[0] if extra and extra[0] else None, tz),
            "coord_system": system, "indoor": indoor}
