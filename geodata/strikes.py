"""Each strike counted once: the reports of several open sources matched and shown one row per strike.

:func:`count_strikes` takes the reports of every open file in one frame (the app's frame, whose
``dataset`` column names the file each row came from), matches them across files
(:func:`geodata.match.match_reports`) and builds :class:`Strikes`: one row per strike
(:func:`geodata.match.merge_reports`: the most precise time, the most precise place, the most
specific munition, the most serious outcome, casualty ranges over the reports, the list of
reports) and, for every report, the strike it belongs to.

Filters apply to the strike rows: a strike is shown when its own row (what its best evidence
says) passes. Each strike then has one time, one place, one munition and one outcome, so the
strikes shown by two date ranges (or two outcomes) never overlap and counts add up, which
"shown when any of its reports passes" would not give (a strike reported at 23:50 by one
source and dated the next day by another would count on both days).

A source is named by its file name (the key the analyst's decisions use, as ``mapviewer match``
does), its path when two open files share a name; the events a database holds are split by
the source they were imported from (``import_source``).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.uri import is_uri
from geodata.match import WITHIN_HOURS, WITHIN_KM, Decisions, MatchResult, match_reports, merge_reports
from geodata.points import LAT, LON, has_geometry, has_point, without_geometry
from geodata.schema import CANONICAL_COLUMNS, DEFAULT_TZ, GEO_PRECISIONS

__all__ = ["DECISIONS_FILE", "STRIKE_COLUMNS", "Strikes", "count_strikes", "decisions_home", "decisions_path_for",
           "merged_report_rows", "read_decisions", "source_keys", "strike_counts", "strikes_words"]

#: Columns a strike row has besides the canonical ones (see :func:`geodata.match.merge_reports`).
STRIKE_COLUMNS: tuple[str, ...] = ("killed_min", "killed_max", "injured_min", "injured_max", "reports",
                                   "report_ids", "sources", "confidence")
#: Name of the analyst's decisions file, kept in the folder of the first file open.
DECISIONS_FILE = "strike-matches.json"


def source_keys(paths: Iterable[str]) -> dict[str, str]:
    """The name each file is matched under: its file name, its full path when two files share a name."""
    paths = list(dict.fromkeys(paths))
    names = [os.path.basename(p) if not is_uri(p) else p for p in paths]
    return {p: (n if names.count(n) == 1 else p) for p, n in zip(paths, names)}


def decisions_path_for(paths: Iterable[str]) -> str | None:
    """Where the decisions on matches of these sources are kept: :data:`DECISIONS_FILE` in the folder
    of the first file (None when every source is a database)."""
    first = next((p for p in paths if not is_uri(p)), None)
    return None if first is None else os.path.join(os.path.dirname(os.path.abspath(first)), DECISIONS_FILE)


def decisions_home(paths: Iterable[str]) -> str | None:
    """Where the decisions on matches of these sources are kept: :func:`decisions_path_for` when a file
    is among them, else the first database (its URI: the decisions are a table there), else None."""
    paths = list(paths)
    return decisions_path_for(paths) or next((p for p in paths if is_uri(p)), None)


def read_decisions(home: str) -> Decisions:
    """The decisions kept at ``home`` (:func:`decisions_home`): a JSON file (none when it does not exist
    yet) or a database's table. Raises DataError with one line when they cannot be read."""
    if is_uri(home):
        from geodata.db import decisions

        return decisions.load(home)
    return Decisions.load(home)


def _parts(reports: pd.DataFrame, by: str) -> list[tuple[str, np.ndarray]]:
    """(source key, row positions) per source, in the order the sources first appear."""
    if by not in reports.columns:
        return [("reports", np.arange(len(reports)))]
    values = reports[by].astype("object").to_numpy()
    order = list(dict.fromkeys(values.tolist()))
    keys = source_keys([str(v) for v in order])
    out: list[tuple[str, np.ndarray]] = []
    for value in order:
        pos = np.flatnonzero(values == value)
        if is_uri(str(value)) and "import_source" in reports.columns:  # a database: one source per import
            inner = reports["import_source"].iloc[pos].astype("object").to_numpy()
            for name in dict.fromkeys(inner.tolist()):
                here = pos[inner == name] if name is not None and name == name else pos[pd.isna(inner)]
                out.append((str(name) if name is not None and name == name else str(value), here))
            continue
        out.append((keys[str(value)], pos))
    seen: dict[str, int] = {}
    unique = []
    for key, pos in out:  # a database source named like an open file: told apart
        seen[key] = seen.get(key, 0) + 1
        unique.append((key if seen[key] == 1 else f"{key} ({seen[key]})", pos))
    return unique


@dataclass
class Strikes:
    """Reports counted once per strike.

    ``reports``: the report frame matched; ``frame``: one row per strike (row ``i`` is strike ``i``;
    canonical columns, then the report frame's other columns taken from the strike's
    ``representative`` report, then :data:`STRIKE_COLUMNS`); ``strike_of``: per report row, its
    strike; ``representative``: per strike, the report row whose place it shows (the most precise
    place; ties: the first source); ``keys``: the source key of each part matched, with its report
    rows; ``result``: what the matching found (groups, toss-ups, reasons).
    """

    reports: pd.DataFrame
    frame: pd.DataFrame
    strike_of: np.ndarray
    representative: np.ndarray
    result: MatchResult
    parts: dict[str, np.ndarray] = field(default_factory=dict)
    _order: np.ndarray | None = field(default=None, repr=False)
    _source: np.ndarray | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        return len(self.frame)

    def reports_of(self, strike: int) -> np.ndarray:
        """Report rows of one strike, in source order."""
        if self._order is None:
            self._order = np.argsort(self.strike_of, kind="stable")
        lo, hi = np.searchsorted(self.strike_of[self._order], [strike, strike + 1])
        return self._order[lo:hi]

    def key_of(self, report: int) -> str:
        """The source key of a report row."""
        if self._source is None:
            self._source = np.zeros(len(self.reports), np.int64)
            for i, pos in enumerate(self.parts.values()):
                self._source[pos] = i
        return list(self.parts)[int(self._source[report])]

    def ref(self, report: int) -> tuple[str, str]:
        """(source key, event id) of a report row: how decisions name it."""
        key = self.key_of(report)
        value = self.reports["event_id"].iloc[report]
        return key, "" if value is None or value != value else str(value)

    def refs(self, strike: int) -> list[tuple[str, str]]:
        """Every report of one strike as decisions name it."""
        return [self.ref(int(r)) for r in self.reports_of(strike)]

    def frames(self) -> dict[str, pd.DataFrame]:
        """The reports of each source (what decisions are checked against)."""
        return {k: self.reports.iloc[pos] for k, pos in self.parts.items()}


def strike_counts(frame: pd.DataFrame) -> tuple[int, int, int]:
    """(strikes, reports, matched reports) of strike rows: "N strikes from M reports (K matched)".

    Rows without a ``reports`` column are single reports (each its own strike)."""
    if "reports" not in frame.columns:
        return len(frame), len(frame), 0
    counts = pd.to_numeric(frame["reports"], errors="coerce").fillna(1).to_numpy(dtype=np.int64)
    return len(frame), int(counts.sum()), int(counts[counts >= 2].sum())


def strikes_words(frame: pd.DataFrame) -> str:
    """"12 strikes from 15 reports" for strike rows (a ``reports`` column), "" for rows of single reports."""
    if "reports" not in frame.columns:
        return ""
    strikes, reports, _ = strike_counts(frame)
    return f"{strikes:,} strike{'s' if strikes != 1 else ''} from {reports:,} report{'s' if reports != 1 else ''}"


def count_strikes(reports: gpd.GeoDataFrame, *, by: str = "dataset", decisions: Decisions | None = None,
                  within_hours: float = WITHIN_HOURS, within_km: float = WITHIN_KM,
                  tz: str = DEFAULT_TZ) -> Strikes:
    """Match the reports of every source in ``reports`` (``by`` names each row's file) and build one
    row per strike. See the module docstring."""
    parts = _parts(reports, by)
    frames = {key: reports.iloc[pos] for key, pos in parts}
    result = match_reports(frames, within_hours=within_hours, within_km=within_km, decisions=decisions, tz=tz)
    n = len(reports)
    strike_of = np.full(n, -1, np.int64)
    for key, pos in parts:
        strike_of[pos] = result.strike[key]
    merged = merge_reports(frames, result)
    # the representative: the most precise place (as merge_reports places the strike), ties the first source
    rank = pd.Categorical(reports["geo_precision"].astype("object"), categories=list(GEO_PRECISIONS)).codes
    rank = np.where(rank < 0, len(GEO_PRECISIONS), rank)
    rank = np.where(has_point(reports), rank, len(GEO_PRECISIONS) + 1)
    global_order = np.empty(n, np.int64)  # position in the order the matching saw the reports
    global_order[np.concatenate([pos for _, pos in parts]) if parts else np.zeros(0, np.int64)] = np.arange(n)
    ranked = np.lexsort((global_order, rank, strike_of))
    first = np.r_[True, strike_of[ranked][1:] != strike_of[ranked][:-1]] if n else np.zeros(0, bool)
    representative = np.empty(result.events, np.int64)
    representative[strike_of[ranked][first]] = ranked[first]
    frame = _strike_frame(reports, merged, representative)
    return Strikes(reports, frame, strike_of, representative, result, dict(parts))


def _strike_frame(reports: pd.DataFrame, merged: gpd.GeoDataFrame, representative: np.ndarray) -> pd.DataFrame:
    """Canonical columns from the merged rows, other report columns from the representative reports;
    the points in the form the reports hold them (geodata.points)."""
    light = not has_geometry(reports)
    merged = (without_geometry(merged) if light else merged).reset_index(drop=True)
    rows = reports.iloc[representative].reset_index(drop=True)
    place = (LAT, LON) if light else ("geometry",)
    data: dict[str, object] = {}
    for column in CANONICAL_COLUMNS:
        for name in place if column == "geometry" else (column,):
            data[name] = merged[name].array
    for column in reports.columns:
        if column not in data and column not in STRIKE_COLUMNS:
            data[column] = rows[column].array
    for column in STRIKE_COLUMNS:
        data[column] = merged[column].array
    return pd.DataFrame(data) if light else gpd.GeoDataFrame(data, geometry="geometry", crs="EPSG:4326")


def merged_report_rows(reports: Mapping[str, gpd.GeoDataFrame], **options) -> tuple[gpd.GeoDataFrame, MatchResult]:
    """One row per strike of reports given per source (``{file name: frame}``, as ``mapviewer match``
    reads them): :func:`geodata.match.merge_reports` of :func:`geodata.match.match_reports`."""
    result = match_reports(reports, **options)
    return merge_reports(reports, result).reset_index(drop=True), result
