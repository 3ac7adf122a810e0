"""Carrier band (MHz, as the contract's ``band_mhz``) from a channel number, by the 3GPP tables.

- LTE EARFCN (TS 36.101 table 5.7.3-1, downlink N_DL ranges);
- NR-ARFCN (TS 38.104 5.4.2.1: the global raster gives the frequency, then the band by TS 38.104
  tables 5.2-1 / 5.2-2);
- GSM ARFCN (TS 45.005: P/E-GSM 900, DCS 1800) and UMTS UARFCN (TS 25.101, downlink).

The band is given by its usual name in MHz (band 3 -> 1800, n78 -> 3500); operators' 频段
text (``1800M``, ``F频段``, ``n41``) is read by :func:`band_from_text`.
"""
from __future__ import annotations



import numpy as np
import pandas as pd

#: LTE: (first EARFCN, last EARFCN, band_mhz) of the downlink ranges
EARFCN = [
    (0, 599, 2100), (600, 1199, 1900), (1200, 1949, 1800), (1950, 2399, 1700), (2400, 2649, 850),
    (2750, 3449, 2600), (3450, 3799, 900), (6150, 6449, 800), (9210, 9659, 700),
    (36000, 36199, 1900), (36200, 36349, 2000), (37750, 38249, 2600), (38250, 38649, 1900),
    (38650, 39649, 2300), (39650, 41589, 2600), (41590, 43589, 3500), (43590, 45589, 3700),
]
#: NR: (lowest MHz, highest MHz, band_mhz) of the downlink, the narrower bands first
NR_MHZ = [
    (758, 803, 700), (925, 960, 900), (1805, 1880, 1800), (2110, 2170, 2100), (2496, 2690, 2600),
    (3300, 3800, 3500), (3800, 4200, 3900), (4400, 5000, 4900), (24250, 29500, 26000),
]
#: GSM: (first, last ARFCN, band_mhz)
GSM_ARFCN = [(0, 124, 900), (512, 885, 1800), (975, 1023, 900)]
#: UMTS downlink UARFCN
UARFCN = [(10562, 10838, 2100), (9662, 9938, 1900), (2937, 3088, 900), (4357, 4458, 850)]
#: 频段 words used in Chinese parameter tables (China Mobile's TD-LTE letters and the like)
BAND_WORDS = {"f": 1900, "a": 2000, "d": 2600, "e": 2300, "fdd1800": 1800, "fdd900": 900, "fdd2100": 2100,
              "n41": 2600, "n78": 3500, "n79": 4900, "n28": 700, "n1": 2100, "n3": 1800, "n8": 900,
              "b1": 2100, "b3": 1800, "b8": 900, "b5": 850, "b38": 2600, "b39": 1900, "b40": 2300, "b41": 2600}


def _lookup(channel: np.ndarray, table) -> np.ndarray:
    out = np.full(len(channel), np.nan)
    for first, last, band in table:
        out = np.where(np.isnan(out) & (channel >= first) & (channel <= last), band, out)
    return out


def nr_arfcn_mhz(arfcn) -> np.ndarray:
    """NR-ARFCN -> frequency in MHz (TS 38.104 5.4.2.1).

    Examples
    --------
    >>> nr_arfcn_mhz([630000, 504990]).round(2).tolist()
    [3450.0, 2524.95]
    """
    n = np.asarray(arfcn, dtype=float)
    return np.select([n < 600000, n < 2016667, n <= 3279165],
                     [0.005 * n, 3000 + 0.015 * (n - 600000), 24250.08 + 0.06 * (n - 2016667)], np.nan)


def band_from_channel(channel, technology) -> np.ndarray:
    """band_mhz per row from the channel number and the technology (NaN when no table has it).

    Examples
    --------
    >>> band_from_channel([1825, 38400, 633984, 100, 10700], ["LTE", "LTE", "NR", "GSM", "UMTS"]).tolist()
    [1800.0, 1900.0, 3500.0, 900.0, 2100.0]
    """
    ch = np.asarray(channel, dtype=float)
    tech = np.asarray(technology, dtype=object)
    nr = _lookup(nr_arfcn_mhz(ch), NR_MHZ)
    return np.select([tech == "LTE", tech == "NR", tech == "GSM", tech == "UMTS"],
                     [_lookup(ch, EARFCN), nr, _lookup(ch, GSM_ARFCN), _lookup(ch, UARFCN)], np.nan)


def band_from_text(text: pd.Series, extra: dict | None = None) -> np.ndarray:
    """``1800``, ``1800M``, ``1.8G``, ``D频段``, ``n78`` -> band_mhz (NaN when not understood).

    Examples
    --------
    >>> band_from_text(pd.Series(["1800M", "D频段", "n78", "2.1G", "?"])).tolist()
    [1800.0, 2600.0, 3500.0, 2100.0, nan]
    """
    words = dict(BAND_WORDS)
    words.update(extra or {})
    key = text.fillna("").astype(str).str.strip().str.lower().str.replace(r"(频段|频带|band|mhz|m)$", "", regex=True)
    key = key.str.replace(r"\s+", "", regex=True)
    by_word = key.map(words).astype(float)
    ghz = key.str.extract(r"^(\d+(?:\.\d+)?)g$")[0].astype(float) * 1000
    mhz = pd.to_numeric(key.str.extract(r"^(?:fdd|tdd)?(\d{3,5})$")[0], errors="coerce")
    return by_word.fillna(ghz).fillna(mhz).to_numpy(float)


