"""Test helper: a contract-format data directory rewritten as an operator's own exports.

What a NOC really has, with the messy parts: a 工参表 workbook with merged group headers
(``基站信息`` over 站号/基站名称..., ``天线参数`` over 方位角/水平波瓣宽度/...), technology as
4G/5G, ECI in decimal for some cells and in hex for others, NR cells by NCI, the band as 频段
text for some rows and as EARFCN / NR-ARFCN for others; an alarm export in GBK with Chinese and
English alarm names, Chinese levels, local times, flapping alarms and housekeeping alarms; a
PM counter export (UTF-8 with BOM) with Huawei-style cell text, PRB as fractions and noise in
mW; a complaint export in GB18030 with one ``经纬度`` cell, 坐标系 words and Chinese categories.

:func:`write_exports` returns the id mapping (contract id -> operator id) so that a test can
translate the truth and compare diagnoses.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

LOCAL = "Asia/Shanghai"
LEVELS = {"critical": "紧急", "major": "重要", "minor": "次要", "warning": "提示"}
CATEGORY_WORDS = {"no_signal": "无信号", "weak_signal": "信号弱", "call_drop": "掉话", "slow_data": "上网慢",
                  "other": "其他", "billing_dispute": "话费争议"}
COORD_WORDS = {"wgs84": "GPS", "gcj02": "高德", "bd09": "百度"}
EARFCN = {1800: 1825, 2100: 100, 900: 3590}
NR_ARFCN = {3500: 633984}
#: alarm names per (event type, planned, element kind), in Chinese and in English
ALARM_NAMES = {
    ("fault", "C"): ("小区不可用告警", "Cell Unavailable"),
    ("fault", "S"): ("网元连接中断", "NE Is Disconnected"),
    ("fault", "R"): ("直放站故障告警", "Repeater Fault"),
    ("fault", "H"): ("传输链路中断", "Transmission Link Down"),
    ("fault", "A"): ("传输链路中断", "Transmission Link Down"),
    ("interference", ""): ("小区上行干扰告警", "Cell Uplink Interference"),
    ("shutdown", "true"): ("计划关断", "Planned Shutdown"),
    ("shutdown", "false"): ("市电停电告警", "Mains Power Failure"),
    ("relocation", ""): ("基站搬迁", "Site Relocated"),
    ("maintenance", ""): ("维护模式", "Maintenance Mode"),
}

PM_PROFILE = """
kind = "counters"
description = "this operator's hourly PM export: PRB as fractions, noise in mW"
[time]
zone = "Asia/Shanghai"
[columns]
timestamp = "开始时间"
period_min = "粒度"
cell_text = "小区"
prb_dl_pct = "下行PRB平均利用率"
prb_ul_pct = "上行PRB平均利用率"
ul_noise_dbm = "上行每PRB平均干扰噪声"
users = "平均RRC连接用户数"
[units]
prb_dl_pct = "fraction"
prb_ul_pct = "fraction"
ul_noise_dbm = "mW"
[ids]
cell = "pattern"
pattern = '[eg]NodeB标识=(?P<node>\\d+).*?本地小区标识=(?P<cell>\\d+)'
[options]
chunk_rows = 40000
"""


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _local(utc_text: pd.Series, fmt: str) -> pd.Series:
    t = pd.to_datetime(utc_text.replace("", None), utc=True, errors="coerce")
    return t.dt.tz_convert(LOCAL).dt.strftime(fmt).fillna("")


def id_maps(data: Path) -> dict[str, str]:
    """Contract id -> operator id: a site S00012 is eNodeB 100012, its cells ``100012-1`` ... (LTE)
    and ``100012-11`` ... (NR); repeaters and transport nodes keep theirs."""
    cells = _read(data / "cells.csv")
    sites = _read(data / "sites.csv")
    node = lambda s: s.str.extract(r"(\d+)$")[0].astype(int).add(100000).astype(str)  # noqa: E731
    mapping = dict(zip(sites["site_id"], node(sites["site_id"])))
    cells = cells.assign(node=node(cells["site_id"]))
    cells["k"] = cells.groupby(["site_id", "technology"]).cumcount()
    local = np.where(cells["technology"] == "NR", cells["k"] + 11, cells["k"] + 1)
    cells["local"] = local
    mapping.update(dict(zip(cells["cell_id"], cells["node"] + "-" + cells["local"].astype(str))))
    return mapping, cells


def write_params(data: Path, out: Path, cells: pd.DataFrame) -> Path:
    """工参表.xlsx: two header rows with merged group titles; ECI dec/hex, NCI; 频段 or EARFCN."""
    from openpyxl import Workbook

    sites = _read(data / "sites.csv").drop_duplicates("site_id")
    t = cells.merge(sites, on="site_id", how="left", suffixes=("", "_site"))
    node = t["node"].astype(int)
    local = t["local"].astype(int)
    lte = t["technology"] == "LTE"
    nr = t["technology"] == "NR"
    eci = node * 256 + local
    nci = node * 4096 + local
    hex_rows = lte & (np.arange(len(t)) % 2 == 1)
    t["ECI"] = np.where(hex_rows, "0x" + eci.map(lambda v: format(v, "X")), eci.astype(str))
    t.loc[~lte, "ECI"] = ""
    t["NCI"] = np.where(nr, nci.astype(str), "")
    band = pd.to_numeric(t["band_mhz"], errors="coerce")
    by_text = np.arange(len(t)) % 3 == 0
    t["频段"] = np.where(by_text, band.map(lambda b: f"{b:.0f}M" if b == b else ""), "")
    channel = np.where(nr, band.map(NR_ARFCN), band.map(EARFCN))
    t["EARFCN"] = np.where(~by_text, pd.Series(channel).map(lambda c: f"{c:.0f}" if c == c else ""), "")
    t["制式"] = t["technology"].map({"LTE": "4G", "NR": "5G"}).fillna(t["technology"])
    t["覆盖类型"] = t["indoor"].map({"true": "室内", "false": "室外"}).fillna("")
    t["站号"] = np.where(t["lat"].notna(), t["node"], t["node"])
    groups = [("基站信息", ["站号", "基站名称", "经度", "纬度", "区县", "维护单位", "传输节点"]),
              ("小区信息", ["小区名称", "制式", "ECI", "NCI", "频段", "EARFCN", "覆盖类型", "覆盖半径"]),
              ("天线参数", ["方位角", "水平波瓣宽度", "下倾角", "天线挂高"])]
    values = {"站号": t["站号"], "基站名称": t["name"], "经度": t["lon"], "纬度": t["lat"], "区县": t["region"],
              "维护单位": t["maintainer"], "传输节点": t["transport_id"], "小区名称": t["name"] + "-" + t["local"].astype(str),
              "制式": t["制式"], "ECI": t["ECI"], "NCI": t["NCI"], "频段": t["频段"], "EARFCN": t["EARFCN"],
              "覆盖类型": t["覆盖类型"], "覆盖半径": t["radius_m"], "方位角": t["azimuth_deg"],
              "水平波瓣宽度": t["beamwidth_deg"], "下倾角": "6", "天线挂高": "30"}
    wb = Workbook()
    ws = wb.active
    ws.title = "工参"
    col = 1
    for title, fields in groups:
        ws.cell(row=1, column=col, value=title)
        ws.merge_cells(start_row=1, start_column=col, end_row=1, end_column=col + len(fields) - 1)
        for i, f in enumerate(fields):
            ws.cell(row=2, column=col + i, value=f)
        col += len(fields)
    names = [f for _, fs in groups for f in fs]
    frame = pd.DataFrame({n: (values[n] if isinstance(values[n], pd.Series) else pd.Series(values[n], index=t.index))
                          for n in names}).fillna("")
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    path = out / "工参表.xlsx"
    wb.save(path)
    return path


def _cell(v):
    """Numbers as numbers (as Excel holds them), ids and text as text."""
    if isinstance(v, str) and v and not v.startswith("0x"):
        try:
            f = float(v)
            return int(f) if f.is_integer() and len(v) < 10 else f
        except ValueError:
            return v
    return v


def write_alarms(data: Path, out: Path, mapping: dict, *, by_name: bool = False) -> Path:
    """告警流水.csv in GBK: local times, Chinese levels, names in two languages, flapping alarms.

    ``by_name``: sites and cells are named as OMCs often do, without their ids: 网元名称 (the
    site's name; every 5th with a trailing blank, every 7th in full-width forms) and, for a
    cell, in turn 本地小区标识, 定位信息 ``eNodeB名称=NAME, 本地小区标识=N`` (网元名称 empty) or
    定位信息 ``小区名称=NAME-N`` (the 工参表's 小区名称). Repeaters and transport nodes keep 网元ID.
    """
    ev = _read(data / "events.csv")
    kind = ev["element_id"].str[0]
    element = ev["element_id"].map(mapping).fillna(ev["element_id"])
    is_cell = kind == "C"
    node = np.where(is_cell, element.str.split("-").str[0], element)
    local = np.where(is_cell, element.str.split("-").str[1].fillna(""), "")
    location = pd.Series("柜号=0, 框号=0, 槽号=2", index=ev.index)
    ne_name = pd.Series("", index=ev.index)
    if by_name:
        sites = _read(data / "sites.csv").drop_duplicates("site_id").set_index("site_id")["name"]
        cell_site = _read(data / "cells.csv").set_index("cell_id")["site_id"]
        site = ev["element_id"].where(kind == "S", ev["element_id"].map(cell_site))
        named = site.map(sites).notna() & kind.isin(["S", "C"])  # an element the inventory lacks keeps its id
        i = pd.Series(np.arange(len(ev)), index=ev.index)
        name = site.map(sites).fillna("")
        name = name.where(i % 5 != 0, name + " ")
        name = name.where(i % 7 != 0, name.map(_full_width))
        ne_name = ne_name.where(~named, name)
        node = np.where(named, "", node)
        way = i % 3
        in_text = named & is_cell & (way == 1)
        location = location.where(~in_text, "eNodeB名称=" + name.str.strip() + ", 本地小区标识=" + pd.Series(local, index=ev.index))
        ne_name = ne_name.where(~in_text, "")
        by_cell_name = named & is_cell & (way == 2)
        location = location.where(~by_cell_name, "小区名称=" + site.map(sites).fillna("") + "-" + pd.Series(local, index=ev.index))
        ne_name = ne_name.where(~by_cell_name, "")
        local = np.where(in_text | by_cell_name, "", local)
    key = [(t, k if t == "fault" else (p if t == "shutdown" else "")) for t, k, p in
           zip(ev["event_type"], kind, ev["planned"])]
    names = [ALARM_NAMES.get(k, ("未知告警", "Unknown Alarm"))[i % 2] for i, k in enumerate(key)]
    rows = pd.DataFrame({"告警流水号": ev["event_id"], "告警名称": names,
                         "告警级别": ev["severity"].map(LEVELS).fillna(ev["severity"]),
                         "发生时间": _local(ev["start_time"], "%Y/%m/%d %H:%M:%S"),
                         "清除时间": _local(ev["end_time"], "%Y/%m/%d %H:%M:%S"),
                         "网元ID": node, "网元名称": ne_name, "本地小区标识": local, "定位信息": location,
                         "附加信息": ev["detail"], "搬迁前纬度": ev["prev_lat"], "搬迁前经度": ev["prev_lon"],
                         "_start": pd.to_datetime(ev["start_time"], utc=True, errors="coerce"),
                         "_end": pd.to_datetime(ev["end_time"].replace("", None), utc=True, errors="coerce")})
    # flapping: every fault on a cell that lasted over 2 h is raised and cleared 4 times, 3 minutes apart
    long = (rows["_end"] - rows["_start"] > pd.Timedelta(hours=2)) & is_cell & (ev["event_type"] == "fault")
    pieces = [rows[~long]]
    for i in range(4):
        p = rows[long].copy()
        span = (p["_end"] - p["_start"]) / 4
        s = p["_start"] + span * i
        e = p["_start"] + span * (i + 1) - (pd.Timedelta(minutes=3) if i < 3 else pd.Timedelta(0))
        p["发生时间"] = s.dt.tz_convert(LOCAL).dt.strftime("%Y/%m/%d %H:%M:%S")
        p["清除时间"] = e.dt.tz_convert(LOCAL).dt.strftime("%Y/%m/%d %H:%M:%S")
        if i:
            p["告警流水号"] = p["告警流水号"] + f"-{i}"
        pieces.append(p)
    noise = rows.head(3).copy()
    noise["告警流水号"] = ["HK1", "HK2", "HK3"]
    noise["告警名称"] = ["风扇告警", "Fan Alarm", "板卡温度过高告警"]  # two housekeeping alarms, one the dictionary does not know
    noise["附加信息"] = ["=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "\x1b[2J 温度 75C"]
    pieces.append(noise)
    alarms = pd.concat(pieces, ignore_index=True).drop(columns=["_start", "_end"])
    if not by_name:
        alarms = alarms.drop(columns=["网元名称"])
    path = out / ("告警流水_按网元名称.csv" if by_name else "告警流水.csv")
    alarms.to_csv(path, index=False, encoding="gbk", errors="replace")
    return path


def _full_width(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms (``SZ-1`` -> ``ＳＺ－１``)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def write_counters(data: Path, out: Path, cells: pd.DataFrame) -> Path:
    """PM export (UTF-8 with BOM): Huawei cell text, PRB as fractions, noise in mW, local times."""
    load = pd.read_parquet(data / "load.parquet") if (data / "load.parquet").exists() else _read(data / "load.csv")
    c = cells.set_index("cell_id")
    known = load["cell_id"].isin(c.index)
    ne = np.where(load["cell_id"].map(c["technology"]) == "NR", "gNodeB", "eNodeB")
    text = (ne + "标识=" + load["cell_id"].map(c["node"]).fillna("") + ", 本地小区标识=" +
            load["cell_id"].map(c["local"]).astype("Int64").astype(str) + ", 小区名称=" + load["cell_id"])
    text = np.where(known, text, "小区名称=" + load["cell_id"])
    prb = pd.to_numeric(load["prb_dl_pct"], errors="coerce")
    ul = pd.to_numeric(load["prb_ul_pct"], errors="coerce")
    noise = pd.to_numeric(load["ul_noise_dbm"], errors="coerce")
    pm = pd.DataFrame({
        "开始时间": pd.to_datetime(load["timestamp"], utc=True).dt.tz_convert(LOCAL).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "粒度": pd.to_numeric(load["period_min"], errors="coerce").astype("Int64").astype(str) + "分钟",
        "小区": text,
        "下行PRB平均利用率": (prb / 100).map(lambda v: "" if v != v else f"{v:.6g}"),
        "上行PRB平均利用率": (ul / 100).map(lambda v: "" if v != v else f"{v:.6g}"),
        "上行每PRB平均干扰噪声": (10 ** (noise / 10)).map(lambda v: "" if v != v else f"{v:.9g}"),
        "平均RRC连接用户数": load["users"],
    })
    path = out / "pm_hourly.csv"
    pm.to_csv(path, index=False, encoding="utf-8-sig")
    (out / "pm_profile.toml").write_text(PM_PROFILE, encoding="utf-8")
    return path


def write_complaints(data: Path, out: Path) -> Path:
    """投诉工单.csv in GB18030: 经纬度 in one cell, 坐标系 words, Chinese categories, local times."""
    c = _read(data / "complaints.csv")
    lat, lon = c["lat"], c["lon"]
    latlon = np.where((lat != "") & (lon != ""), lon + "," + lat, "")
    rows = pd.DataFrame({
        "工单号": c["complaint_id"],
        "受理时间": np.where(c["received_at"].str.match(r"^\d{4}-"), _local(c["received_at"], "%Y/%m/%d %H:%M:%S"),
                         c["received_at"]),
        "发生时间": _local(c["occurred_at"], "%Y/%m/%d %H:%M:%S"),
        "投诉地址": "深圳市某区某路" + c["complaint_id"].str[-3:] + "号",
        "经纬度": latlon,
        "坐标系": c["coord_system"].map(COORD_WORDS).fillna(c["coord_system"]),
        "投诉类别": c["category"].map(CATEGORY_WORDS).fillna(c["category"]),
        "是否室内": c["indoor"].map({"true": "是", "false": "否"}).fillna(""),
        "受理渠道": c["channel"], "客户号码": c["customer_id"],
        "是否VIP": c["vip"].map({"true": "是", "false": "否"}).fillna(""),
        "投诉内容": c["description"],
    })
    path = out / "投诉工单.csv"
    rows.to_csv(path, index=False, encoding="gb18030")
    return path


def write_exports(data: str | Path, out: str | Path, *, alarms_by_name: bool = False) -> dict:
    """Every export of ``data`` into ``out``; returns ``{"mapping": ..., "files": {kind: path}}``.
    ``alarms_by_name``: the alarms name sites and cells instead of giving their ids (:func:`write_alarms`)."""
    data, out = Path(data), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mapping, cells = id_maps(data)
    files = {"params": write_params(data, out, cells), "alarms": write_alarms(data, out, mapping, by_name=alarms_by_name),
             "counters": write_counters(data, out, cells), "complaints": write_complaints(data, out)}
    return {"mapping": mapping, "files": files}


def contract_extras(data: Path, imported: Path, mapping: dict) -> None:
    """The tables no export kind covers: transport as it is, repeaters with their donors' new ids."""
    (imported / "transport.csv").write_bytes((Path(data) / "transport.csv").read_bytes())
    rep = _read(Path(data) / "repeaters.csv")
    rep["donor_cell_id"] = rep["donor_cell_id"].map(mapping).fillna(rep["donor_cell_id"])
    rep.to_csv(imported / "repeaters.csv", index=False)
