"""Scoring diagnoses against closed tickets: how far an operator can trust netdiag on its own cases.

:func:`evaluate` compares ``diagnoses.csv`` (``netdiag diagnose``) with a truth file of closed
tickets (``complaint_id, cause, element_id``: the confirmed cause and root element) and gives
cause accuracy, per-cause precision / recall / F1, the confusion matrix (truth rows, diagnosis
columns), element accuracy (the same root element, both empty counting as the same), and the
reliability of ``confidence``: per confidence bin the mean confidence against the share of
verdicts (cause and element) that were right, and the expected calibration error (ECE). Only
complaints in both files are scored; the others are counted.

What the files hold is taken as it is meant, and said: causes are compared without case or
surrounding blanks (``Fault`` = ``fault``); a cause outside the contract's list is counted under
``other`` in the confusion matrix and the per-cause table (never dropped); a complaint listed twice
is scored once (the first row) and a row without a cause is left out, each listed in ``notes``; a
confidence outside 0..1 is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netdiag.data.schema import CAUSES
from netdiag.errors import InputError

TRUTH_REQUIRED = ("complaint_id", "cause")
#: the confusion matrix's row and column for causes outside the contract's list
OTHER = "other"


@dataclass
class Evaluation:
    """The scores; :meth:`as_dict` for JSON, :func:`evaluation_text` / :func:`evaluation_html` for people."""

    scored: int
    only_diagnosed: int
    only_truth: int
    cause_accuracy: float
    element_accuracy: float
    verdict_accuracy: float
    per_cause: pd.DataFrame      # cause, support, predicted, precision, recall, f1
    confusion: pd.DataFrame      # truth cause x diagnosed cause
    reliability: pd.DataFrame    # bin, low, high, count, mean_confidence, accuracy
    ece: float | None
    mismatches: pd.DataFrame     # complaint_id, cause, cause_truth, element_id, element_id_truth, confidence
    notes: list = None           # what was left out or counted apart, for a person

    def as_dict(self) -> dict:
        def records(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]
        return {
            "scored": self.scored, "only_diagnosed": self.only_diagnosed, "only_truth": self.only_truth,
            "cause_accuracy": self.cause_accuracy, "element_accuracy": self.element_accuracy,
            "verdict_accuracy": self.verdict_accuracy, "per_cause": records(self.per_cause),
            "confusion": {t: {p: int(n) for p, n in row.items()} for t, row in self.confusion.iterrows()},
            "reliability": records(self.reliability), "expected_calibration_error": self.ece,
            "notes": list(self.notes or []),
        }


def _read(path: str | Path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"`{what}` {str(path)!r}: no such file")
    from netdiag.data.csv_reader import _encoding  # UTF-8, UTF-16, GB18030/GBK: as every CSV netdiag reads

    try:
        encoding = _encoding(path, path.name)[0]
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:  # a short GBK file can pass for UTF-8 in places: all of it must be one
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"`{what}` {path.name} is not a readable CSV file: {str(exc).splitlines()[0][:200]}") from None
    frame.columns = [c.strip().lstrip("\ufeff").lower() for c in frame.columns]
    for col in frame.columns:
        frame[col] = frame[col].str.strip().str.lstrip("'")  # netdiag's own CSV neutralises formulas so
    return frame


def _clean(frame: pd.DataFrame, what: str, notes: list) -> pd.DataFrame:
    """Causes in lower case; rows without a cause and repeated complaints left out, and said so."""
    frame = frame.reset_index(drop=True)
    frame["complaint_id"] = frame["complaint_id"].fillna("").astype(str).str.strip()
    frame["cause"] = frame["cause"].fillna("").astype(str).str.strip().str.lower()
    row = pd.Series(range(1, len(frame) + 1), index=frame.index)
    empty = frame["cause"] == ""
    if empty.any():
        ids = ", ".join(f"{i or '(no id)'} (row {r})" for i, r in zip(frame.loc[empty, "complaint_id"][:10], row[empty][:10]))
        notes.append(f"{what}: {int(empty.sum())} rows without a cause left out: {ids}")
    frame = frame[~empty]
    dup = frame["complaint_id"].duplicated(keep="first")
    if dup.any():
        first = frame.groupby("complaint_id")["cause"].transform("first")
        conflicting = dup & (frame["cause"] != first)
        ids = ", ".join(f"{i} (row {r})" for i, r in zip(frame.loc[dup, "complaint_id"][:10], row[dup.index[dup]][:10]))
        notes.append(f"{what}: {int(dup.sum())} repeated complaint_id rows left out, the first row of each kept "
                     f"({int(conflicting.sum())} with another cause): {ids}")
    frame = frame[~dup]
    unknown = frame.loc[~frame["cause"].isin(CAUSES), "cause"]
    if len(unknown):
        notes.append(f"{what}: causes outside the contract's list, counted as {OTHER!r}: " + ", ".join(
            f"{c!r} ({n} rows)" for c, n in unknown.value_counts().head(5).items()))
    return frame


def _check_confidence(d: pd.DataFrame) -> None:
    text = d["confidence"].fillna("").astype(str).str.strip()
    conf = pd.to_numeric(text, errors="coerce")
    bad = (text != "") & ~((conf >= 0) & (conf <= 1))
    if bad.any():
        rows = ", ".join(f"{i} ({t!r})" for i, t in zip(d.loc[bad, "complaint_id"][:5], text[bad][:5]))
        raise InputError(f"`diagnoses` confidence must be a number in 0..1 (or empty); {int(bad.sum())} rows are not: "
                         f"{rows}")


def evaluate(diagnoses: str | Path | pd.DataFrame, truth: str | Path | pd.DataFrame, *, bins: int = 10) -> Evaluation:
    """Score diagnoses against the truth of closed tickets.

    Parameters
    ----------
    diagnoses : path or DataFrame
        ``diagnoses.csv`` of ``netdiag diagnose`` (``complaint_id, cause, element_id, confidence``).
    truth : path or DataFrame
        Closed tickets: ``complaint_id``, ``cause`` (the contract's causes), ``element_id`` (optional).
    bins : int, default 10
        Equal-width confidence bins for the reliability table.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        A file that is missing or not CSV, a missing column, a confidence outside 0..1.

    Examples
    --------
    >>> d = pd.DataFrame({"complaint_id": ["1", "2"], "cause": ["fault", "congestion"],
    ...                   "element_id": ["C1", "C2"], "confidence": ["0.9", "0.6"]})
    >>> t = pd.DataFrame({"complaint_id": ["1", "2"], "cause": ["fault", "fault"], "element_id": ["C1", "C2"]})
    >>> e = evaluate(d, t)
    >>> e.cause_accuracy, e.element_accuracy, int(e.confusion.loc["fault", "congestion"])
    (0.5, 1.0, 1)
    """
    d = diagnoses.copy() if isinstance(diagnoses, pd.DataFrame) else _read(diagnoses, "diagnoses")
    t = truth.copy() if isinstance(truth, pd.DataFrame) else _read(truth, "truth")
    for frame, what, needed in ((d, "diagnoses", ("complaint_id", "cause")), (t, "truth", TRUTH_REQUIRED)):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputError(f"`{what}` has no column {', '.join(missing)}; its columns are {', '.join(map(str, frame.columns[:20]))}")
        frame["element_id"] = frame["element_id"].fillna("").astype(str) if "element_id" in frame.columns else ""
    if "confidence" not in d.columns:
        d["confidence"] = ""
    _check_confidence(d)
    notes: list[str] = []
    d, t = _clean(d, "diagnoses", notes), _clean(t, "truth", notes)
    m = d.merge(t[["complaint_id", "cause", "element_id"]], on="complaint_id", how="outer",
                suffixes=("", "_truth"), indicator=True)
    only_diagnosed = int((m["_merge"] == "left_only").sum())
    only_truth = int((m["_merge"] == "right_only").sum())
    m = m[m["_merge"] == "both"].drop(columns="_merge")
    if m.empty:
        raise InputError("no complaint_id is in both the diagnoses and the truth: nothing to score")
    cause_ok = (m["cause"] == m["cause_truth"]).to_numpy()
    element_ok = (m["element_id"].fillna("") == m["element_id_truth"].fillna("")).to_numpy()
    grouped = m.assign(cause=_bucket(m["cause"]), cause_truth=_bucket(m["cause_truth"]))
    labels = list(CAUSES) + [OTHER]
    confusion = pd.crosstab(grouped["cause_truth"], grouped["cause"]).reindex(index=labels, columns=labels, fill_value=0)
    confusion = confusion.loc[(confusion.sum(axis=1) > 0) | (confusion.sum(axis=0) > 0)]
    confusion = confusion.loc[:, (confusion.sum(axis=0) > 0) | confusion.columns.isin(confusion.index)]
    confusion.index.name, confusion.columns.name = "truth", "diagnosed"
    per_cause = _per_cause(grouped)
    conf = pd.to_numeric(m["confidence"], errors="coerce").to_numpy(float)
    reliability, ece = _reliability(conf, cause_ok & element_ok, bins)
    wrong = ~(cause_ok & element_ok)
    mismatches = m.loc[wrong, ["complaint_id", "cause", "cause_truth", "element_id", "element_id_truth", "confidence"]]
    return Evaluation(scored=int(len(m)), only_diagnosed=only_diagnosed, only_truth=only_truth,
                      cause_accuracy=float(cause_ok.mean()), element_accuracy=float(element_ok.mean()),
                      verdict_accuracy=float((cause_ok & element_ok).mean()), per_cause=per_cause,
                      confusion=confusion, reliability=reliability, ece=ece,
                      mismatches=mismatches.reset_index(drop=True), notes=notes)


def _bucket(causes: pd.Series) -> pd.Series:
    return causes.where(causes.isin(CAUSES), OTHER)


def _per_cause(m: pd.DataFrame) -> pd.DataFrame:
    support = m["cause_truth"].value_counts()
    predicted = m["cause"].value_counts()
    hits = m.loc[m["cause"] == m["cause_truth"], "cause"].value_counts()
    causes = [c for c in (*CAUSES, OTHER) if support.get(c, 0) or predicted.get(c, 0)]
    out = pd.DataFrame({"cause": causes})
    out["support"] = [int(support.get(c, 0)) for c in causes]
    out["predicted"] = [int(predicted.get(c, 0)) for c in causes]
    tp = np.array([hits.get(c, 0) for c in causes], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["precision"] = np.where(out["predicted"] > 0, tp / out["predicted"], np.nan)
        out["recall"] = np.where(out["support"] > 0, tp / out["support"], np.nan)
        out["f1"] = 2 * out["precision"] * out["recall"] / (out["precision"] + out["recall"])
    return out


def _reliability(conf: np.ndarray, right: np.ndarray, bins: int) -> tuple[pd.DataFrame, float | None]:
    """Per equal-width bin: count, mean confidence, observed accuracy; and the ECE."""
    known = np.isfinite(conf)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf[known], edges[1:-1], right=False), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "confidence": conf[known], "right": right[known].astype(float)})
    g = frame.groupby("bin").agg(count=("right", "size"), mean_confidence=("confidence", "mean"), accuracy=("right", "mean"))
    g = g.reindex(range(bins))
    g.insert(0, "high", edges[1:])
    g.insert(0, "low", edges[:-1])
    g["count"] = g["count"].fillna(0).astype(int)
    g = g.reset_index()
    n = int(known.sum())
    if n == 0:
        return g, None
    used = g["count"] > 0
    ece = float((g.loc[used, "count"] / n * (g.loc[used, "accuracy"] - g.loc[used, "mean_confidence"]).abs()).sum())
    return g, ece


def _pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.1f}%"


def evaluation_text(e: Evaluation) -> str:
    """The scores as text for a terminal."""
    lines = [f"scored {e.scored} complaints (only diagnosed: {e.only_diagnosed}, only in the truth: {e.only_truth})",
             f"cause accuracy    {_pct(e.cause_accuracy)}",
             f"element accuracy  {_pct(e.element_accuracy)}",
             f"verdict accuracy  {_pct(e.verdict_accuracy)} (cause and element both right)", "",
             f"{'cause':16s} {'support':>8s} {'diagnosed':>9s} {'precision':>9s} {'recall':>7s} {'F1':>7s}"]
    for r in e.per_cause.itertuples():
        lines.append(f"{r.cause:16s} {r.support:8d} {r.predicted:9d} {_pct(r.precision):>9s} {_pct(r.recall):>7s} {_pct(r.f1):>7s}")
    lines += ["", "confusion (rows: truth, columns: diagnosed)", e.confusion.to_string(), "",
              "confidence reliability (verdict right = cause and element)"]
    for r in e.reliability.itertuples():
        if r.count:
            lines.append(f"  {r.low:.1f}-{r.high:.1f}  n={r.count:5d}  confidence {_pct(r.mean_confidence):>6s}  right {_pct(r.accuracy):>6s}")
    lines.append(f"expected calibration error: {'-' if e.ece is None else f'{e.ece:.3f}'}")
    if e.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in e.notes]
    return "\n".join(lines)


def evaluation_html(e: Evaluation) -> str:
    """One self-contained HTML page; every value from the files is escaped."""
    from netdiag.views.sanitize import escape_html as h

    def table(frame: pd.DataFrame, *, index: bool = False) -> str:
        head = ([h(frame.index.name or "")] if index else []) + [h(c) for c in frame.columns]
        rows = []
        for idx, row in frame.iterrows():
            cells = ([f"<th>{h(idx)}</th>"] if index else []) + [
                f"<td>{h(_pct(v) if isinstance(v, float) and c in ('precision', 'recall', 'f1', 'accuracy', 'mean_confidence') else v)}</td>"
                for c, v in row.items()]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return "<table><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr>" + "".join(rows) + "</table>"
    mism = e.mismatches.head(200)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>netdiag evaluation</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}</style></head><body>
<h1>netdiag evaluation</h1>
<p>Scored {e.scored} complaints (only diagnosed: {e.only_diagnosed}, only in the truth: {e.only_truth}).</p>
<ul><li>cause accuracy: <b>{_pct(e.cause_accuracy)}</b></li><li>element accuracy: <b>{_pct(e.element_accuracy)}</b></li>
<li>verdict accuracy (cause and element): <b>{_pct(e.verdict_accuracy)}</b></li>
<li>expected calibration error: <b>{'-' if e.ece is None else f'{e.ece:.3f}'}</b></li></ul>
{"".join(f"<p>{h(n)}</p>" for n in (e.notes or []))}
<h2>Per cause</h2>{table(e.per_cause)}
<h2>Confusion (rows: truth, columns: diagnosed)</h2>{table(e.confusion, index=True)}
<h2>Confidence reliability</h2>{table(e.reliability[e.reliability['count'] > 0])}
<h2>Wrong verdicts (first {len(mism)} of {len(e.mismatches)})</h2>{table(mism)}
</body></html>
"""
