"""A field team's dispatch list for people: CSV (Excel), a printable HTML page, terminal text and JSON.

Every text from the data is escaped in the page and neutralised in the CSV; customer numbers
are masked, except on a plan from :func:`netdiag.tickets.dispatch.reveal_customers`, whose CSV
and page (not its map) show them, each reveal written to the ticket's history as the files are
written. Each stop has its position in WGS-84 and GCJ-02, labelled, with a link to a map app
(a link only: the page loads nothing).
The route itself is planned by :mod:`netdiag.tickets.dispatch`.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from netdiag.data.display import zone_heading
from netdiag.errors import InputError
from netdiag.tickets.dispatch import REVEAL_EVENT, DispatchPlan
from netdiag.views.sanitize import escape_html
from netdiag.views.writers import prepare_out_dir, to_jsonable, write_csv, write_text


def _slug(text: str) -> str:
    """A safe file-name part (team names come from data: no path separators); names that had to
    change keep a short hash of the original, so ``field-南山`` and ``field-福田`` stay apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._") or "team"
    if safe == str(text):
        return safe
    return f"{safe}-{hashlib.sha1(str(text).encode()).hexdigest()[:6]}"


def _dispatch_files(plan: DispatchPlan) -> tuple[str, str]:
    """(csv name, html name) of a plan, e.g. ``dispatch_field-West_2026-11-03.csv``."""
    base = f"dispatch_{_slug(plan.team)}_{plan.date.isoformat() if plan.date else 'open'}"
    return base + ".csv", base + ".html"


def write_dispatch(plan: DispatchPlan, out_dir: str | Path, *, overwrite: bool = False, route_map: bool = False,
                   tiles: str | None = None, store=None, who: str | None = None) -> list[Path]:
    """Write the plan as CSV and as a printable HTML page into ``out_dir``; with ``route_map``
    also the route as an offline map (``..._map.html``, :func:`netdiag.views.route_map.build_dispatch_map`).

    On a plan from :func:`netdiag.tickets.dispatch.reveal_customers`, the CSV and the page show the
    customers' full numbers (the map does not), and each ticket whose numbers they show gets a
    ``customer_revealed`` history row (``who``, now, which list) in ``store``, in one transaction
    with writing those two files: a failure of either leaves neither.

    Raises
    ------
    InputError
        When a file exists and ``overwrite`` is false; a revealing plan without ``store``.
    """
    if plan.reveals and store is None:
        raise InputError("a list that shows customers' numbers is written with the ticket store that records each reveal")
    csv_name, html_name = _dispatch_files(plan)
    map_name = html_name.replace(".html", "_map.html")
    out = prepare_out_dir(out_dir, [csv_name, html_name] + ([map_name] if route_map else []), overwrite=overwrite)
    # arrive and due on the local clock of plan.tz (the column times_in), due_at exact (UTC ISO 8601)
    table = plan.stops.assign(times_in=plan.tz, route_km_total=round(plan.route_m / 1000, 2),
                              unordered_km_total=round(plan.unordered_m / 1000, 2))
    if plan.revealed:
        table["complaints"] = [plan.revealed.get(t, c) for t, c in zip(table["ticket_id"], table["complaints"])]
    paths = [out / csv_name, out / html_name]

    def write_list():
        write_csv(table, paths[0])
        write_text(paths[1], _dispatch_html(plan))

    if plan.reveals:
        day = plan.date.isoformat() if plan.date else "every open visit"
        why = {tid: f"dispatch list for {plan.team} on {day}: number(s) of {', '.join(ids)} shown on {csv_name} and {html_name}"
               for tid, ids in plan.reveals.items()}
        try:
            store.add_history(why, event=REVEAL_EVENT, who=who, before_commit=write_list)
        except BaseException:
            for path in paths:  # written just before a COMMIT that failed: no reveal without its record
                path.unlink(missing_ok=True)
            raise
    else:
        write_list()
    if route_map and len(plan.stops):
        from netdiag.views.leaflet import save_map
        from netdiag.views.route_map import build_dispatch_map

        paths.append(save_map(build_dispatch_map(plan, tiles=tiles), out / map_name, overwrite=True))
    return paths


def _dispatch_html(plan: DispatchPlan) -> str:
    """A self-contained, printable HTML page of the plan (every text escaped; no scripts, no CDN)."""
    e = escape_html
    start = f"{plan.start[0]:.5f}, {plan.start[1]:.5f}" if plan.start else "free (the route begins at the first stop)"
    rows = []
    for r in plan.stops.to_dict("records"):
        complaints = plan.revealed.get(r["ticket_id"], r["complaints"])
        flags = " ".join(f for f, on in (("OVERDUE", r["overdue"]), ("late", r["late"])) if on)
        rows.append(
            f"<tr><td class=n>{e(r['order'])}</td>"
            f"<td class=t><b>{e(r['ticket_id'])}</b><br>{e(r['priority'])} &middot; {e(r['complaint_count'])} complaint(s)</td>"
            f"<td>{e(r['place'])}{_where_html(r)}</td>"
            f"<td class=t>{e(r['arrive'])}<br><span class=m>+{e(r['leg_km'])} km</span></td>"
            f"<td class=t>{e(r['due'])}{'<br><b class=w>' + e(flags) + '</b>' if flags else ''}</td>"
            f"<td>{e(r['what_to_test'])}</td>"
            f"<td class=s>{e(r['evidence'])}</td>"
            f"<td class=s>{e(complaints).replace(chr(10), '<br>')}</td>"
            f"<td class=box></td></tr>")
    left = (f"<p>{len(plan.left_over)} more open visit(s) left for another day: "
            f"{e(', '.join(plan.left_over['ticket_id'].head(30)))}{' ...' if len(plan.left_over) > 30 else ''}</p>"
            if len(plan.left_over) else "")
    title = f"Dispatch list {plan.team}" + (f" {plan.date}" if plan.date else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font: 13px/1.35 system-ui, sans-serif; margin: 1.5em; color: #111; }}
h1 {{ font-size: 18px; margin: 0 0 .3em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #999; padding: 4px 6px; vertical-align: top; text-align: left; }}
th {{ background: #eee; }}
td.n {{ font-size: 16px; font-weight: bold; text-align: center; }}
td.s {{ font-size: 11px; max-width: 22em; }}
td.box {{ width: 7em; }}
td.t {{ white-space: nowrap; }}
.m {{ color: #555; font-size: 11px; }}
.w {{ color: #b00; }}
@media print {{ body {{ margin: 0; }} tr {{ page-break-inside: avoid; }} }}
</style></head><body>
<h1>{e(title)}</h1>
<p><b>{e(zone_heading(plan.tz))}</b> {len(plan.stops)} visits; start: {e(start)}.<br>
Route <b>{plan.route_m / 1000:.1f} km</b> against {plan.unordered_m / 1000:.1f} km for the same visits in due-time order
({plan.saving_pct:.0f}% shorter; straight-line distances, roads are longer).
{f'{plan.waiting} visit(s) pending or held are not listed.' if plan.waiting else ''}</p>
<table><thead><tr><th>#</th><th>ticket</th><th>place</th><th>arrive</th><th>due</th><th>what to test</th>
<th>evidence</th><th>complaints ({'customer numbers shown for this team only; each reveal is in the ticket history'
                                   if plan.reveals else 'customers masked'})</th><th>result / signature</th></tr></thead>
<tbody>
{chr(10).join(rows) if rows else '<tr><td colspan=9>no open field-test visits</td></tr>'}
</tbody></table>
{left}
<p class=m>netdiag dispatch list. Reply with the test result on each ticket:
netdiag tickets update TICKET --status resolved --why "RESULT".</p>
</body></html>
"""


def _where_html(r: dict) -> str:
    """The landmark, both positions (labelled) and their map links of one stop, for the page."""
    e = escape_html
    site = " ".join(x for x in (r["nearest_site_name"], f"({r['nearest_site_id']})" if r["nearest_site_id"] else "") if x)
    landmark = " &middot; ".join(x for x in (f"nearest site {e(site)}" if site else "",
                                             f"district {e(r['district'])}" if r["district"] else "") if x)

    def link(url, text):
        return f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer">{e(text)}</a>'
    return ((f"<br><span class=m>{landmark}</span>" if landmark else "")
            + f"<br><span class=m>WGS-84 {float(r['lat_wgs84']):.6f}, {float(r['lon_wgs84']):.6f} "
              f"{link(r['map_wgs84'], 'map app')}"
            + f"<br>GCJ-02 {float(r['lat_gcj02']):.6f}, {float(r['lon_gcj02']):.6f} {link(r['map_gcj02'], '高德地图 AMap')}</span>")


def plan_text(plan: DispatchPlan) -> str:
    """The list for a terminal: the zone of its times, the summary, then one stop per two lines (arrival, due, test)."""
    lines = [zone_heading(plan.tz), plan.summary()]
    for r in plan.stops.to_dict("records"):
        flag = " OVERDUE" if r["overdue"] else (" late" if r["late"] else "")
        lines.append(f"{r['order']:>3}. {r['ticket_id']}  {r['priority']}  arrive {r['arrive']}  due {r['due']}{flag}  "
                     f"+{r['leg_km']:.1f} km  {r['place']}")
        lines.append(f"     test: {r['what_to_test']}")
    return "\n".join(lines)


def plan_json(plan: DispatchPlan, files: list[Path] | tuple = ()) -> dict:
    """The list as a JSON-ready dict: team, date, start, route lengths, stops, visits left over, files written."""
    return {"team": plan.team, "date": str(plan.date) if plan.date else None, "start": plan.start, "display_tz": plan.tz,
            "route_km": round(plan.route_m / 1000, 2), "unordered_km": round(plan.unordered_m / 1000, 2),
            "stops": to_jsonable(plan.stops), "left_over": plan.left_over["ticket_id"].tolist(),
            "files": [str(p) for p in files]}
