"""Complaint exports of the customer-service system -> ``complaints``.

Typical headers: 工单号, 受理时间, 发生时间, 投诉地址, 经纬度 (one cell ``lon,lat``) or 经度 and
纬度, 坐标系 (百度 / 高德 / GPS ...), 投诉类别, 客户号码, 投诉内容. Positions keep their
coordinate system (``coord_system``: netdiag converts GCJ-02 and BD-09 to WGS-84 when it reads
them). A complaint with an address but no coordinates is rejected: netdiag does not geocode, and
a complaint without a usable place must be sent back for one (DOMAIN.md). The customer number
goes to ``customer_id`` as the contract wants it (netdiag masks it in every output); the
import's own report never shows it.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from netdiag.data.privacy import mask_text_series
from netdiag.data.schema import CATEGORIES, COORD_SYSTEMS
from netdiag.importers.common import Job, quoted

COMPLAINT_COLUMNS = ["complaint_id", "received_at", "occurred_at", "lat", "lon", "coord_system", "category", "indoor",
                     "channel", "customer_id", "vip", "description", "position_accuracy_m"]
COORD_WORDS = {"百度": "bd09", "百度坐标": "bd09", "百度地图": "bd09", "baidu": "bd09",
               "高德": "gcj02", "高德地图": "gcj02", "高德坐标": "gcj02", "腾讯": "gcj02", "腾讯地图": "gcj02",
               "火星坐标": "gcj02", "国测局坐标": "gcj02", "gps": "wgs84", "gps坐标": "wgs84", "wgs84坐标": "wgs84",
               "大地坐标": "wgs84"}


_DECIMAL = re.compile(r"(?<![\d.])[-+]?\d{1,3}\.\d+(?![\d.])"  # a coordinate, not a phone number
                      r"|(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}[/.-]\d{1,2}[/.-]\d{1,2})"  # a date,
                      r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?(?!\d)")  # with its time
_KEEP = "\ue000"


def mask_reasons(reasons: pd.Series) -> pd.Series:
    """Phone numbers in the reasons masked (:func:`netdiag.data.privacy.mask_text_series`), but not
    decimals with a point such as coordinates (``104.0431,30.6412`` is no phone number) nor dates
    (``01/11/2026 08:00``).

    Examples
    --------
    >>> mask_reasons(pd.Series(["'104.0431,30.6412' outside", "call 13812345678 or 138.1234.5678"])).tolist()
    ["'104.0431,30.6412' outside", 'call *******5678 or ***.****.5678']
    """
    kept: dict = {}

    def protect(i, text):
        kept[i] = _DECIMAL.findall(text)
        return _DECIMAL.sub(_KEEP, text)
    text = reasons.astype(object).fillna("")
    protected = pd.Series([protect(i, t) if t else t for i, t in text.items()], index=text.index, dtype=object)
    masked = mask_text_series(protected)
    out = []
    for i, t in masked.items():
        for value in kept.get(i, []):
            t = t.replace(_KEEP, value, 1)
        out.append(t)
    return pd.Series(out, index=reasons.index, dtype=object)


def _position(job: Job) -> tuple[np.ndarray, np.ndarray]:
    if job.header("latlon") is not None and job.header("lat") is None:
        pair = job.text("latlon")
        parts = pair.str.extract(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，;/ ]\s*(-?\d+(?:\.\d+)?)\s*$")
        a, b = pd.to_numeric(parts[0], errors="coerce"), pd.to_numeric(parts[1], errors="coerce")
        order = job.profile.options.get("latlon_order", "lon,lat")
        lon, lat = (a, b) if order == "lon,lat" else (b, a)
        given = (pair != "").to_numpy()
        job.reject(given & parts[0].isna().to_numpy(), job.label("latlon") + " " + quoted(pair) +
                   " is not two numbers 'lon,lat'")
        return job.fix_position(lat.to_numpy(float), lon.to_numpy(float), job.label("latlon"), quoted(pair))
    return job.position("lat", "lon", required=False)


def convert(job: Job) -> tuple[dict, pd.Series]:
    """``{"complaints": ...}`` and the row ids (the complaint ids)."""
    job.require("complaint_id", "received_at", "category")
    cid = job.text("complaint_id")
    job.reject((cid == "").to_numpy(), f"{job.label('complaint_id')} missing")
    lat, lon = _position(job)
    no_position = ~np.isfinite(lat) | ~np.isfinite(lon)
    address = job.text("address")
    has_address = (address != "").to_numpy()
    job.reject(no_position & has_address & ~job.bad, "no coordinates, only the address " + quoted(address, 30) +
               ": netdiag does not geocode; send the complaint back for a position")
    job.reject(no_position & ~has_address & ~job.bad, "no position: coordinates and address both empty")
    coords = dict(COORD_SYSTEMS)
    coords.update(COORD_WORDS)
    complaints = pd.DataFrame({
        "complaint_id": cid, "received_at": job.times("received_at", required=True),
        "occurred_at": job.times("occurred_at"), "lat": lat, "lon": lon,
        "coord_system": job.words("coord_system", allowed=coords),
        "category": job.words("category", allowed=CATEGORIES, required=True),
        "indoor": job.booleans("indoor"), "channel": job.text("channel"),
        "customer_id": job.text("customer_id"), "vip": job.booleans("vip"),
        "description": job.text("description"),
        "position_accuracy_m": job.number("position_accuracy_m", lo=0),
    })
    from netdiag.importers.params import _duplicates

    job.reasons = mask_reasons(job.reasons)  # a reason quoting an address or a note never shows a phone number whole
    _duplicates(job, cid, "complaint_id")
    return {"complaints": complaints[~job.bad][COMPLAINT_COLUMNS].reset_index(drop=True)}, cid
