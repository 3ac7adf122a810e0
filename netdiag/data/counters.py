"""The load counters of a data set, read in pieces when they are needed.

Counters are the one table that grows without end (hourly rows per cell: 70 million a week in a
province), so nothing downstream holds them whole. What reads them asks a :class:`Counters`
for pieces:

- :meth:`Counters.chunks`: the validated rows of the data set's period, a piece at a time
  (a day of a workspace, or the whole table of a data directory read into memory), optionally
  only some columns and some cells;
- :meth:`Counters.rows`: the rows of a few cells in a period (``netdiag check``);
- :meth:`Counters.latest`: the last counter period seen;
- :meth:`Counters.pieces` and :meth:`Counters.read_piece`: the same rows as independent pieces
  (a workspace's day files), for an engine that reads them on several workers.

:class:`FrameCounters` serves a table already in memory (a data directory);
:class:`netdiag.data.workspace.WorkspaceCounters` serves the day files of a prepared workspace.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import pandas as pd


class Counters:
    """What the engine may ask of the load counters (see the module docstring)."""

    def chunks(self, columns: list[str] | None = None, cells: Iterable[str] | None = None) -> Iterator[pd.DataFrame]:
        raise NotImplementedError

    def latest(self) -> pd.Timestamp | None:
        raise NotImplementedError

    def pieces(self) -> list:
        """The counters as independent pieces, each read by :meth:`read_piece`: what an engine spreads
        over workers (:mod:`netdiag.engine.engines`). One piece by default: the whole of :meth:`chunks`."""
        return [None]

    def read_piece(self, piece, columns: list[str] | None = None,
                   cells: Iterable[str] | None = None) -> Iterator[pd.DataFrame]:
        """The rows of one of :meth:`pieces`, a chunk at a time (as :meth:`chunks` for all of them)."""
        yield from self.chunks(columns, cells)

    def rows(self, cells: Iterable[str], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """The rows of ``cells`` whose period starts in ``[start, end)``."""
        parts = [c[(c["timestamp"] >= start) & (c["timestamp"] < end)] for c in self.chunks(cells=cells)]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else self.empty()

    def empty(self) -> pd.DataFrame:
        raise NotImplementedError


class FrameCounters(Counters):
    """Counters held in one validated frame (a data directory read into memory)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame

    def chunks(self, columns=None, cells=None):
        frame = self.frame
        if cells is not None:
            frame = frame[frame["cell_id"].isin(list(cells))]
        if len(frame):
            yield frame if columns is None else frame[columns]

    def latest(self):
        if self.frame.empty:
            return None
        value = self.frame["timestamp"].max()
        return pd.Timestamp(value) if pd.notna(value) else None

    def empty(self):
        return self.frame.iloc[:0]
