"""The handler's screen for a ``netdiag check`` result.

Plain Python on the plain dict of :func:`netdiag.engine.check.check_point`: no pandas, so the light
client of ``netdiag serve`` can print it without importing the data stack.
"""
from __future__ import annotations

from netdiag.data.display import local_text, zone_heading


def format_check(result: dict, *, lang: str = "en") -> str:
    """The handler's screen: every time on the local clock of ``result["display_tz"]``, named on the first line."""
    p = result["position"]
    zone = result.get("display_tz") or "UTC"

    def when(value) -> str:
        return local_text(value, zone)
    lines = [zone_heading(zone),
             f"spot {p['lat']:.6f}, {p['lon']:.6f} (WGS-84; given {p['given'][0]}, {p['given'][1]} in {p['coord_system']})"
             f"{' indoor' if p['indoor'] else ''} at {when(result['at'])}",
             f"nearest site {result['nearest_site']['site_id']} at {result['nearest_site']['distance_m']:,} m", ""]
    if result.get("warning"):
        lines[1:1] = [f"WARNING  {result['warning']}", ""]
    v = result["verdict"]
    lines.append(f"VERDICT  {v['cause']}" + (f" on {v['element_id']}" if v["element_id"] else "")
                 + (f" via {v['via']}" if v["via"] else "") + f"  (confidence {v['confidence']:.2f})")
    lines.append(f"ACTION   {v['action']} -> {v['team']}")
    lines.append(f"EVIDENCE {v['evidence']}")
    t = result["ticket"]
    lines.append(f"TICKET   {t['ticket_id']} ({t['status']}, {t['priority']}, {t['complaint_count']} complaints, due {when(t['due_at'])})"
                 if t else "TICKET   none open for this fault")
    lines += ["", "serving elements:"]
    if not result["serving"]:
        lines.append("  none: nothing serves this spot")
    for s in result["serving"]:
        lines.append(f"  {s['element_id']:<10} {s['kind']:<9} {s['chain']:<32} r={s['radius_m']} m ({s['radius_source']})  {s['status']}")
    lines += ["", "alarms (active and recent):"]
    lines += [f"  {'ACTIVE' if e['active'] else 'ended '} {e['event_id']:<10} {e['element_id']:<10} {e['type']:<12} "
              f"{e['severity']:<8} {when(e['start'])} -> {when(e['end']) or 'ongoing'}  {e['detail']}" for e in result["events"]] or ["  none"]
    lines += ["", f"load in the hour from {when(result['window'][0])} to {when(result['window'][1])}:"]
    for row in result["load"]:
        if row.get("missing"):
            lines.append(f"  {row['cell_id']:<10} no counters reported")
        else:
            lines.append(f"  {row['cell_id']:<10} PRB DL {row['prb_dl_pct']:.0f}%  UL noise {row['ul_noise_dbm']} dBm  users {row['users']}")
    if not result["load"]:
        lines.append("  none")
    lines += ["", "reply to the customer:", "  " + result["reply"][lang]]
    return "\n".join(lines)


def check_json(result: dict, *, indent: int | None = 2) -> str:
    """The check result as JSON text (one line with ``indent=None``, for a stream of queries)."""
    import json

    return json.dumps(result, ensure_ascii=False, indent=indent, default=str)
