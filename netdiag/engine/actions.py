"""Action, team, confidence, evidence and the reply to the customer, for every verdict.

Rules (CONTRACT.md, issue #3):

=====================  ==================================  ===================================
cause                  action                              team
=====================  ==================================  ===================================
fault / shutdown       ``dispatch_repair`` (外派)           the element's maintainer (代维)
  ... on transport     ``transfer`` (转派)                  the node's maintainer, or transport
  ... planned, end     ``direct_reply`` (直接答复)           service_desk
  known
relocation             ``transfer``                        optimisation (the old area lost cover)
interference           ``transfer``                        optimisation
congestion             ``transfer``                        optimisation
coverage_hole          ``transfer``                        optimisation
no_fault_found         ``dispatch_field_test``              field-<region of the nearest site>
=====================  ==================================  ===================================

Confidence starts from how direct the evidence is (an alarm on the root 0.95, a sleeping cell
found in counters 0.8, interference by alarm 0.85 or counters only 0.75, congestion 0.75,
relocation 0.85, coverage hole 0.7, no fault found 0.6) and drops by 10 % when the customer
gave no time (the 72 h look-back window is a guess).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from netdiag.data.privacy import mask_series, mask_text_series
from netdiag.data.display import display_zone, local_text
from netdiag.data.times import format_times
from netdiag.data.values import text_or_empty

BASE_CONFIDENCE = {
    ("fault", "alarm"): 0.95, ("fault", "load"): 0.8, ("shutdown", "alarm"): 0.95, ("relocation", "alarm"): 0.85,
    ("interference", "alarm"): 0.85, ("interference", "load"): 0.75, ("congestion", "load"): 0.75,
}
OTHER_CONFIDENCE = {"coverage_hole": 0.7, "no_fault_found": 0.6}
#: a no-fault verdict for a window the data does not reach (no counter or alarm from then on)
UNCOVERED_CONFIDENCE = 0.2
#: the reply when the data does not reach the complaint's time: it promises nothing
NO_DATA_REPLY = {
    "zh": "您好，我们已收到您的反馈，正在核查您所在区域的网络情况，核查后将尽快与您联系。",
    "en": "We have received your report and are checking the network at your location; we will contact you "
          "with the result.",
}


def decide(net, points: pd.DataFrame, verdicts: pd.DataFrame, *, replies: bool = True) -> pd.DataFrame:
    """The diagnosis rows: verdict + action, team, confidence, evidence, replies (zh and en).

    With ``replies=False`` the replies are left empty (but the no-promise one, for a time the data
    does not reach) for :func:`replies_by_tickets` to write once the tickets are known.
    """
    v = verdicts.copy()
    el = net.elements
    cause = v["cause"].astype(str)
    kind = v["element_id"].map(el["kind"])
    maintainer = v["element_id"].map(el["maintainer"])
    planned = v["planned"].isin([True])
    has_end = pd.to_datetime(v["end"], utc=True).notna()
    region = v["nearest_site"].map(el["region"])
    outage = cause.isin(["fault", "shutdown"])
    transport = outage & (kind == "transport")
    planned_reply = (cause == "shutdown") & planned & has_end & ~transport
    repair = outage & ~transport & ~planned_reply

    action = np.select(
        [repair, transport, planned_reply, cause == "no_fault_found"],
        ["dispatch_repair", "transfer", "direct_reply", "dispatch_field_test"], default="transfer")
    team = np.select(
        [repair, transport, planned_reply, cause == "no_fault_found"],
        [maintainer.fillna("maintenance").astype(str), maintainer.fillna("transport").astype(str), "service_desk",
         ("field-" + region.astype("str")).where(region.notna(), "field")],
        default="optimisation")

    source = v["source"].fillna("")
    pairs = zip(cause.to_numpy(dtype=object), source.to_numpy(dtype=object))
    base = pd.Series([BASE_CONFIDENCE.get((c, s), OTHER_CONFIDENCE.get(c, 0.6)) for c, s in pairs], index=v.index)
    guessed_window = points["occurred_at"].isna().to_numpy()
    confidence = (base * np.where(guessed_window, 0.9, 1.0)).round(2)
    uncovered = _uncovered(net, points, cause)
    confidence = confidence.where(~uncovered, UNCOVERED_CONFIDENCE)

    out = pd.DataFrame({
        "complaint_id": points["complaint_id"].to_numpy(dtype=object),
        "cause": cause.to_numpy(dtype=object),
        "element_id": v["element_id"].where(~cause.isin(["coverage_hole", "no_fault_found"]), None).fillna("").to_numpy(dtype=object),
        "via": v["via"].fillna("").to_numpy(dtype=object),
        "serving_ids": v["serving_ids"].to_numpy(dtype=object),
        "action": action, "team": team,
        "ticket_id": "",
        "confidence": confidence.to_numpy(float),
    })
    out["evidence"] = evidence(net, points, v).to_numpy(dtype=object)
    if replies:
        out["reply_zh"], out["reply_en"] = customer_replies(net, pd.DataFrame({
            "action": out["action"], "cause": out["cause"], "received_at": pd.to_datetime(points["received_at"], utc=True).to_numpy(),
            "cause_start": pd.to_datetime(v["start"], utc=True).to_numpy(), "cause_end": pd.to_datetime(v["end"], utc=True).to_numpy()}))
    else:
        out["reply_zh"], out["reply_en"] = "", ""
    if uncovered.any():  # nothing to judge by: said in the evidence, and the customer is promised nothing
        until = net.data_until()
        seen = f"the data ends {local_text(until, display_zone(net.settings))}" if until is not None else "the data holds none"
        hit = uncovered.to_numpy()
        out.loc[hit, "evidence"] = f"no counters or alarms reach this window ({seen}): not a confident no-fault; " + \
            out.loc[hit, "evidence"]
        out.loc[hit, "reply_zh"], out.loc[hit, "reply_en"] = NO_DATA_REPLY["zh"], NO_DATA_REPLY["en"]
    # detail for people, maps and tickets
    out["element_kind"] = kind.fillna("").to_numpy(dtype=object)
    out["incident_id"] = v["incident_id"].to_numpy(dtype=object)
    out["event_id"] = v["event_id"].to_numpy(dtype=object)
    out["cause_start"] = pd.to_datetime(v["start"], utc=True).dt.as_unit("ns").array
    out["cause_end"] = pd.to_datetime(v["end"], utc=True).dt.as_unit("ns").array
    out["planned"] = planned.to_numpy()
    for col in ("received_at", "occurred_at", "w_start", "w_end"):
        out[col] = pd.to_datetime(points[col], utc=True).dt.as_unit("ns").array
    out["lat"], out["lon"] = points["lat"].to_numpy(float).round(6), points["lon"].to_numpy(float).round(6)
    out["coord_system"] = points["coord_system"].to_numpy(dtype=object)
    for col in ("category", "indoor", "vip", "channel"):
        out[col] = points[col].to_numpy()
    out["customer"] = mask_series(points["customer_id"]).to_numpy(dtype=object)
    out["description"] = mask_text_series(points["description"]).to_numpy(dtype=object)
    out["region"] = region.to_numpy(dtype=object)
    out["nearest_site"] = v["nearest_site"].to_numpy(dtype=object)
    out["nearest_site_m"] = v["nearest_site_m"].to_numpy(float).round(0)
    return out


def _uncovered(net, points: pd.DataFrame, cause: pd.Series) -> pd.Series:
    """No-fault verdicts whose window starts where the data has nothing more (:meth:`Network.data_until`)."""
    nff = cause.to_numpy() == "no_fault_found"
    if not nff.any():
        return pd.Series(False, index=cause.index)
    until = net.data_until()
    if until is None:
        return pd.Series(nff, index=cause.index)
    after = (pd.to_datetime(points["w_start"], utc=True) >= until).to_numpy(dtype=bool)
    return pd.Series(nff & after, index=cause.index)


def evidence(net, points: pd.DataFrame, v: pd.DataFrame) -> pd.Series:
    """A short reason a person can read: which alarm or counter, its values and times."""
    cause = v["cause"].astype(str)
    zone = display_zone(net.settings)
    local = None if zone == "UTC" else zone  # UTC times say so each (``10:00Z``); local ones name the zone once, at the end

    def when(values):
        return format_times(values, local)
    window = "window " + when(points["w_start"]).to_numpy(dtype=object) + " to " + when(points["w_end"]).to_numpy(dtype=object)
    window = pd.Series(window, index=v.index)
    start, end = when(v["start"]), when(v["end"]).replace("", "ongoing")
    el = text_or_empty(v["element_id"])
    detail = text_or_empty(v["detail"]).str.slice(0, 80)
    sev = text_or_empty(v["severity"])
    ev = text_or_empty(v["event_id"])
    alarm = (cause + " alarm " + ev + " on " + el + " (" + sev + "), " + start + " to " + end
             + np.where(detail != "", ": " + detail, "") + "; " + window)
    symptoms = text_or_empty(v.get("symptoms", pd.Series(index=v.index, dtype=object)))
    alarm = alarm + np.where(symptoms != "", "; symptom alarms below it suppressed: " + symptoms, "")
    sleeping = "sleeping cell " + el + ": " + detail + ", " + start + " to " + end + "; " + window
    planned = v["planned"].isin([True])
    alarm = alarm + np.where((cause == "shutdown") & planned, " (planned works)", "")
    reloc = ("relocation " + ev + ": " + el + " moved on " + start + "; the spot lies in its old footprint (served by "
             + text_or_empty(v["serving_element"]) + " before the move)")
    value = pd.to_numeric(v["value"], errors="coerce")
    periods = pd.to_numeric(v["periods"], errors="coerce").fillna(0).astype(int).astype(str)
    peak = when(v.get("peak_time", pd.Series(index=v.index, dtype=object)))
    noise = ("uplink noise on " + el + " peaked at " + value.round(1).astype(str) + " dBm at " + peak + " ("
             + periods + " interfered periods, threshold " + str(net.settings.interference_noise_dbm) + " dBm); " + window)
    inter_alarm = ("interference alarm " + ev + " on " + el + " (" + sev + "), " + start + " to " + end
                   + np.where(detail != "", ": " + detail, "") + np.where(value.notna(), "; uplink noise up to " + value.round(1).astype(str)
                                                                          + " dBm", "") + "; " + window)
    congestion = ("downlink PRB on " + el + " peaked at " + value.round(1).astype(str) + "% at " + peak + " (" + periods
                  + " congested periods, threshold " + str(net.settings.congestion_prb_pct) + "%); " + window)
    km = (pd.to_numeric(v["nearest_site_m"], errors="coerce") / 1000).round(2).astype(str)
    hole = "no cell or repeater serves this spot" + np.where(points["indoor"].to_numpy(bool), " (indoor)", "") + \
        "; nearest site " + text_or_empty(v["nearest_site"]) + " at " + km + " km"
    nff = "served by " + text_or_empty(v["serving_ids"]).str.replace(";", ", ") + "; no alarm, interference or congestion in the " + window
    source = text_or_empty(v["source"])
    text = pd.Series(np.select(
        [(cause == "fault") & (source == "load"), cause.isin(["fault", "shutdown"]), cause == "relocation",
         (cause == "interference") & (source == "alarm"), cause == "interference", cause == "congestion", cause == "coverage_hole"],
        [sleeping, alarm, reloc, inter_alarm, noise, congestion, hole], default=nff), index=v.index)
    if local:
        text = text + np.where(cause == "coverage_hole", "", f" (times in {zone})")
    return text


REPLIES = {
    "repair": ("您好，经核查，您所在区域的附近基站自{start}起出现故障，我们已安排维护人员抢修，将于{reply_due}前向您反馈进展。给您带来不便，敬请谅解。",
               "We found a fault on the base station serving your area since {start}. A repair team has been dispatched "
               "and we will update you before {reply_due}. We apologise for the inconvenience."),
    "transport": ("您好，经核查，您所在区域的传输线路自{start}起出现故障，导致周边基站中断，我们已转传输专业抢修，将于{reply_due}前向您反馈进展。",
                  "A transmission-line fault since {start} has taken the base stations in your area off the air. Our transport "
                  "team is repairing it and we will update you before {reply_due}."),
    "restored": ("您好，经核查，您所在区域的附近基站于{start}至{end}期间出现故障，目前已恢复正常。如仍有问题，请再次联系我们。",
                 "The base station serving your area had a fault from {start} to {end}; service has been restored. If "
                 "you still have trouble, please contact us again."),
    "planned": ("您好，您所在区域的基站正在进行计划内网络施工（{start}至{end}），期间信号可能中断，施工结束后将自动恢复。感谢您的理解。",
                "Planned network works are under way at the base station serving your area ({start} to {end}); service "
                "returns when the works end. Thank you for your patience."),
    "relocation": ("您好，原为您所在区域提供服务的基站已于{start}搬迁，我们的网络优化人员正在规划该区域的覆盖，将尽快改善信号。",
                   "The base station that served your area was relocated on {start}. Our optimisation team is planning "
                   "coverage for your area and will improve the signal as soon as possible."),
    "interference": ("您好，经核查，为您提供服务的小区存在无线干扰，已转网络优化人员排查处理，处理后会及时通知您。",
                     "We detected radio interference on the cell serving your area. Our optimisation team is tracing it and "
                     "will let you know once it is fixed."),
    "congestion": ("您好，经核查，为您提供服务的小区在忙时业务量较大，网速会受影响，我们已安排网络优化人员进行扩容评估。",
                   "The cell serving your area is heavily loaded at busy hours, which slows data. Our optimisation team is "
                   "assessing extra capacity."),
    "coverage_hole": ("您好，您反映的位置目前处于网络覆盖薄弱区域，已转网络规划人员评估建站或优化方案。",
                      "Your location is at the edge of our current coverage. We have referred it to network planning to "
                      "assess a new site or optimisation."),
    "no_fault_found": ("您好，经核查，该时段您所在区域的网络设备运行正常，我们将安排测试人员于{visit_due}前到现场测试，请保持电话畅通。",
                       "Our network equipment in your area was working normally at that time. A field tester will test on the "
                       "spot before {visit_due}; please keep your phone reachable."),
}


def zoned_deadline(text: str, zone: str, *, lang: str = "en") -> str:
    """A deadline read to the customer, naming its zone: ``2026-11-06 12:30 UTC``, ``2026-11-06 20:30
    Beijing time`` (``北京时间2026-11-06 20:30``: Asia/Shanghai or UTC+08:00), ``2026-11-06 20:30
    UTC-03:00``, ``2026-11-06 20:30 (Europe/Dublin time)``; ``""`` stays ``""``.

    Examples
    --------
    >>> zoned_deadline("2026-11-06 12:30", "UTC"), zoned_deadline("2026-11-06 20:30", "UTC+08:00", lang="zh")
    ('2026-11-06 12:30 UTC', '北京时间2026-11-06 20:30')
    """
    if not text:
        return text
    if zone in ("Asia/Shanghai", "UTC+08:00"):
        return f"北京时间{text}" if lang == "zh" else f"{text} Beijing time"
    if zone == "UTC" or zone.startswith(("UTC+", "UTC-")):
        return f"{text} {zone}"
    return f"{text}（{zone}时间）" if lang == "zh" else f"{text} ({zone} time)"


def customer_replies(net, d: pd.DataFrame, reply_due: pd.Series | None = None,
                     visit_due: pd.Series | None = None) -> tuple[list[str], list[str]]:
    """The reply to the customer in Chinese and English, its times on the local clock of the display
    zone (:func:`~netdiag.data.display.display_zone`): what the customer hears is their own time.

    ``d`` holds ``action, cause, cause_start, cause_end, received_at``. The deadlines promised are
    the ticket's own (:func:`replies_by_tickets`): ``reply_due`` (its first reply, for a repair)
    and ``visit_due`` (its closure, by which a field tester will have been); without a ticket,
    those of an ordinary one from ``received_at``. A reply names no internal id or team.
    """
    settings = net.settings
    tz = display_zone(settings)
    received = pd.to_datetime(d["received_at"], utc=True)
    first_h, close_h = settings.due_hours("ordinary")
    reply_due = received + pd.Timedelta(hours=first_h) if reply_due is None else pd.to_datetime(reply_due, utc=True)
    visit_due = received + pd.Timedelta(hours=close_h) if visit_due is None else pd.to_datetime(visit_due, utc=True)
    start, end = format_times(d["cause_start"], tz), format_times(d["cause_end"], tz)
    deadlines = {}
    for name, due in (("reply_due", reply_due), ("visit_due", visit_due)):
        text = format_times(pd.Series(due.to_numpy(), index=d.index), tz)
        deadlines[name] = [text.map(lambda t, lang=lang: zoned_deadline(t, tz, lang=lang)).to_numpy(dtype=object)
                           for lang in ("zh", "en")]
    cause_end = pd.to_datetime(d["cause_end"], utc=True)
    over = (cause_end.notna() & (cause_end <= received)).to_numpy()  # the outage had ended when the customer called
    repairing = (d["action"] == "dispatch_repair").to_numpy()
    transport = ((d["action"] == "transfer") & d["cause"].isin(["fault", "shutdown"])).to_numpy()
    key = np.select(
        [(repairing | transport) & over, repairing, transport, (d["action"] == "direct_reply").to_numpy()],
        ["restored", "repair", "transport", "planned"], default=d["cause"])
    zh, en = [], []
    columns = (np.asarray(key, dtype=object), start.to_numpy(dtype=object), end.to_numpy(dtype=object),
               *deadlines["reply_due"], *deadlines["visit_due"])
    for k, s, f, rz, re_, vz, ve in zip(*columns):
        z_tpl, e_tpl = REPLIES[k]
        zh.append(z_tpl.format(start=s, end=f or "待定", reply_due=rz, visit_due=vz))
        en.append(e_tpl.format(start=s, end=f or "to be announced", reply_due=re_, visit_due=ve))
    return zh, en


def replies_by_tickets(net, diag: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """``diag`` with each reply's deadlines taken from its ticket's own due times (first reply, closure),
    which follow the ticket's grade (a VIP's or an urgent ticket's are sooner); a complaint that joins
    a ticket whose deadline has already passed is promised its grade's time from its own call, and
    one without a ticket an ordinary ticket's. A reply that promises nothing (the data does not
    reach the complaint's time) stays as it is."""
    known = (diag["reply_zh"] != NO_DATA_REPLY["zh"]).to_numpy()
    if not known.any():
        return diag
    t = tickets.drop_duplicates("ticket_id").set_index("ticket_id")
    part = diag.loc[known]
    tid = part["ticket_id"].astype(str) if "ticket_id" in part else pd.Series("", index=part.index)
    received = pd.to_datetime(part["received_at"], utc=True)
    grade = tid.map(t["grade"]).fillna("ordinary").astype(str)
    hours = {g: net.settings.due_hours(g) for g in set(grade)}
    deadlines = []
    closure = pd.to_datetime(tid.map(t["due_at"]), utc=True)
    for column, which in (("first_reply_due", 0), ("due_at", 1)):
        due = pd.to_datetime(tid.map(t[column]), utc=True)
        # a complaint joining a ticket whose deadline has passed is promised its grade's time from its own call,
        # but never later than the ticket's closure while that is still ahead
        own = received + pd.to_timedelta(grade.map(lambda g, i=which: hours[g][i]).astype(float), unit="h")
        own = own.where(~((closure > received) & (own > closure)), closure)
        deadlines.append(due.where(due > received, own))
    zh, en = customer_replies(net, part, reply_due=deadlines[0], visit_due=deadlines[1])
    out = diag.copy()
    out.loc[known, "reply_zh"], out.loc[known, "reply_en"] = zh, en
    return out