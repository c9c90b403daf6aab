"""The one application state: data, filters, selection and view.

Widgets call the setters and redraw on the signals; no widget signals another
widget directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, Signal

from geodata import FilterState, LoadReport
from geodata.points import LAT, LON, without_geometry
from geodata.stats import repeated_events
from geodata.schema import CANONICAL_COLUMNS

if TYPE_CHECKING:
    from geodata.strikes import Strikes
    from geodata.tiles import TileArchive


@dataclass(frozen=True)
class Dataset:
    """One opened file: its path and its load report."""

    path: str
    report: LoadReport


def _with_origin(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    """``frame`` with where each event came from: which file (a category: a million rows cost a
    megabyte, not a million copies of the path) and which row of it; its points as latitude and
    longitude columns (geodata.points: shapely's points would cost 210 MB a million events)."""
    part = without_geometry(frame).reset_index(drop=True)
    part["dataset"] = pd.Categorical.from_codes(np.zeros(len(part), dtype=np.int8), categories=[path])
    part["source_row"] = frame.index.to_numpy()
    return part


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of ``frames`` one after another. Their file names are one category of the open files;
    so is any column every frame holds as a category (repeated text, see the loader), and one that
    only some hold so is text again (pandas would make it Python objects)."""
    frames = [f.assign(dataset=f["dataset"].astype("category").cat.remove_unused_categories()) for f in frames]
    names = dict.fromkeys(c for f in frames for c in f.columns)
    for name in names:
        parts = [f[name] for f in frames if name in f.columns]
        kinds = [isinstance(p.dtype, pd.CategoricalDtype) for p in parts]
        if not any(kinds) or all(p.dtype == parts[0].dtype for p in parts):
            continue
        if all(kinds):
            dtype = pd.CategoricalDtype(list(dict.fromkeys(v for p in parts for v in p.cat.categories)))
        else:
            text = [isinstance((p.cat.categories if kind else p).dtype, pd.StringDtype) for p, kind in zip(parts, kinds)]
            dtype = "str" if all(text) else object
        frames = [f.assign(**{name: f[name].astype(dtype)}) if name in f.columns else f for f in frames]
    return pd.concat(frames, ignore_index=True)


def _empty_frame() -> pd.DataFrame:
    columns = [c for name in CANONICAL_COLUMNS for c in ((LAT, LON) if name == "geometry" else (name,))]
    return pd.DataFrame({c: np.zeros(0) if c in (LAT, LON) else [] for c in columns})


class AppState(QObject):
    """Holds the loaded frame (the truth), the filter, the selection and the basemap.

    ``frame`` is every loaded row of every open file, concatenated, with
    ``dataset`` and ``source_row`` columns naming the file and row each event
    came from, each place as ``latitude``/``longitude`` columns (no shapely points: read them with
    :func:`geodata.points.lon_lat`); positions (0..n-1) are the row identity the views share. ``mask`` is the current filter's mask.
    ``selection`` is a sorted array of row positions. ``figure_title`` and ``figure_page`` are the print
    figure's title and page preset (saved with a view; "" / None when not given).

    Counting each strike once: ``reports`` holds every report of every open file (the truth);
    ``frame`` is what the views show: ``reports``, or, while :attr:`counting_strikes`, one row
    per strike (:class:`geodata.strikes.Strikes`, set by the matcher through
    :meth:`set_strikes`). Assigning ``frame`` replaces the reports.
    """

    data_changed = Signal()  # frame replaced (files opened or closed)
    filter_changed = Signal()  # filter (and so mask) changed
    selection_changed = Signal()
    basemap_changed = Signal(str)
    zoom_to_selection_requested = Signal()
    view_requested = Signal(float, float, float)  # lat, lon, zoom: the map should go there
    waves_changed = Signal()  # attack-wave reports opened or closed
    database_changed = Signal()  # the open database's answers from the server (cells, counts, new events)
    view_changed = Signal()  # the map reported a new centre or zoom (``view``)
    basemap_files_changed = Signal()  # tile archives added, removed or reordered
    matching_changed = Signal()  # "count each strike once" switched, or another decisions file chosen
    strikes_changed = Signal()  # strikes matched anew (or dropped: the reports changed)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.strikes: Strikes | None = None  # the open reports matched (None: not yet, or one source)
        self._strike_frame: pd.DataFrame | None = None  # strikes.frame while counting them
        #: "Count each strike once": True, False, or None for the default (on with two or more sources).
        self.count_once: bool | None = None
        #: The analyst's decisions file (None: strike-matches.json next to the first file, see geodata.strikes).
        self.decisions_path: str | None = None
        self.reports: pd.DataFrame = _empty_frame()
        self.frame = self.reports
        self.datasets: list[Dataset] = []
        self.filter = FilterState()
        self.mask = np.ones(0, dtype=bool)
        self.selection = np.zeros(0, dtype=np.int64)
        self.basemap = "offline"
        #: Tile archives (geodata.tiles) drawn over the basemap, bottom first (File > Add basemap file...).
        self.basemap_files: list[TileArchive] = []
        self.view: tuple[float, float, float] | None = None  # lat, lon, zoom as the map reports it
        self.waves: pd.DataFrame | None = None  # attack waves (geodata.waves), not points
        self.wave_datasets: list[Dataset] = []
        self.figure_title = ""
        self.figure_page: str | None = None
        self._columns: dict[str, list[str]] = {}  # each open file's columns: closing one drops its own
        # per row, the event it shares with a row of another open file, else -1 (geodata.stats.repeated_events)
        self.repeat_groups = np.zeros(0, dtype=np.int64)
        #: The open team database (mapviewer.files.database.DatabaseSource), or None. While its rows are not
        #: all in memory (``database.partial``) the frame holds what the map view needs, and the panels show
        #: the server's counts (``database.summary``, ``database.facets``, ``database.histogram()``).
        self.database = None
        self.refreshing = False  # True while replace_rows' signals run: the views keep their place

    # -- data -------------------------------------------------------------
    def add_dataset(self, path: str, frame: pd.DataFrame, report: LoadReport) -> None:
        part = _with_origin(frame, path)
        frames = [f for f in (self.reports, part) if len(f)]
        combined = _concat(frames) if len(frames) > 1 else part
        self.frame = combined
        self.datasets.append(Dataset(path, report))
        self._columns[path] = list(part.columns)
        self._refresh_after_data()
        self._report_repeats(path, report)

    def replace_rows(self, path: str, frame: pd.DataFrame, report: LoadReport) -> None:
        """Put ``frame`` in place of the rows of the open dataset ``path`` (an open database's rows for
        a new filter, view or import): as closing and adding it again, but the map and timeline keep
        their place (``refreshing`` is True while the signals run)."""
        part = _with_origin(frame, path)
        others = (self.reports.loc[(self.reports["dataset"] != path).to_numpy(dtype=bool)]
                  if "dataset" in self.reports.columns else self.reports.iloc[:0])
        frames = [f for f in (others, part) if len(f)]
        combined = _concat(frames) if len(frames) > 1 else part
        self.frame = combined
        self.datasets = [Dataset(path, report) if d.path == path else d for d in self.datasets]
        self._columns[path] = list(part.columns)
        self.refreshing = True
        try:
            self._refresh_after_data()
        finally:
            self.refreshing = False

    def _report_repeats(self, path: str, report: LoadReport) -> None:
        """Say in the new file's report which of its events another open file holds too."""
        if self.frame is not self.reports:
            return
        mine = (self.frame["dataset"] == path).to_numpy() & (self.repeat_groups >= 0)
        if not mine.any():
            return
        shared = np.isin(self.repeat_groups, self.repeat_groups[mine]) & ~mine
        others = ", ".join(sorted({os.path.basename(p) for p in self.frame.loc[shared, "dataset"]}))
        rows = [int(r) for r in self.frame.loc[mine, "source_row"]]
        listed = ", ".join(map(str, rows[:10])) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
        report.add(None, "event_id", f"{len(rows):,} event{'s' if len(rows) != 1 else ''} with the same id and "
                   f"time as in {others}, also open: counted once per file (rows {listed})", "warning")

    def clear(self) -> None:
        """Close every open file (events and attack waves)."""
        self.frame = _empty_frame()
        self.datasets = []
        self._columns = {}
        self.waves = None
        self.wave_datasets = []
        self._refresh_after_data()
        self.waves_changed.emit()

    def close_dataset(self, path: str) -> bool:
        """Close one open file, an incident file or an attack-waves report; False when it is not open.

        Its rows (or waves) leave the frame, the columns only it had go too, and
        the selection is cleared (row positions change).
        """
        if any(d.path == path for d in self.datasets):
            self.datasets = [d for d in self.datasets if d.path != path]
            self._columns.pop(path, None)
            if not self.datasets:
                self.frame = _empty_frame()
            else:
                kept = set().union(*self._columns.values())
                rows = _concat([self.reports.loc[(self.reports["dataset"] != path).to_numpy(dtype=bool),
                                                 [c for c in self.reports.columns if c in kept]]])
                self.frame = rows.reset_index(drop=True)
            self._refresh_after_data()
            return True
        if any(d.path == path for d in self.wave_datasets):
            self.wave_datasets = [d for d in self.wave_datasets if d.path != path]
            rest = None if self.waves is None else self.waves.loc[self.waves["dataset"] != path]
            self.waves = rest.reset_index(drop=True) if rest is not None and self.wave_datasets else None
            self.waves_changed.emit()
            return True
        return False

    @property
    def all_datasets(self) -> list[Dataset]:
        """Every open file: incident data, then attack-wave reports."""
        return self.datasets + self.wave_datasets

    # -- one strike, many reports ---------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """What the views show: every report, or one row per strike while :attr:`counting_strikes`."""
        return self._strike_frame if self._strike_frame is not None else self.reports

    @frame.setter
    def frame(self, reports: pd.DataFrame) -> None:
        self.reports = reports  # new reports: strikes matched on the old ones no longer apply
        self.strikes = None
        self._strike_frame = None

    @property
    def wants_strikes(self) -> bool:
        """"Count each strike once" is on: chosen, or by default with two or more sources open."""
        if self.count_once is not None:
            return self.count_once
        sources = len(self.strikes.parts) if self.strikes is not None else len(self.datasets)
        return sources >= 2

    @property
    def counting_strikes(self) -> bool:
        """True while ``frame`` holds one row per strike."""
        return self._strike_frame is not None

    @property
    def visible_reports(self) -> pd.DataFrame:
        """The reports the filter keeps, each on its own (what a saved view fingerprints)."""
        return self.reports[self.filter.mask(self.reports)] if len(self.reports) else self.reports

    def set_strikes(self, strikes: Strikes | None) -> bool:
        """The open reports matched (the matcher's result); False when they are not the reports open now."""
        if strikes is not None and strikes.reports is not self.reports:
            return False
        self.strikes = strikes
        self._apply_counting()
        self.strikes_changed.emit()
        return True

    def set_count_once(self, on: bool | None) -> None:
        """Count each strike once (True), every report (False), or the default (None)."""
        if on is self.count_once:
            return
        self.count_once = on
        self._apply_counting()
        self.matching_changed.emit()

    def set_decisions_path(self, path: str | None) -> None:
        """Keep the analyst's decisions on matches in ``path`` (None: next to the first file)."""
        if path == self.decisions_path:
            return
        self.decisions_path = path
        self.matching_changed.emit()

    def reports_of(self, position: int) -> pd.DataFrame | None:
        """The reports of the strike at ``position`` of ``frame`` (None when not counting strikes)."""
        if self._strike_frame is None or self.strikes is None:
            return None
        return self.reports.iloc[self.strikes.reports_of(int(position))]

    def _apply_counting(self) -> None:
        shown = self.strikes.frame if self.strikes is not None and self.wants_strikes else None
        if shown is self._strike_frame:
            return
        self._strike_frame = shown
        self._refresh_after_data()

    def _refresh_after_data(self) -> None:
        self.repeat_groups = repeated_events(self.frame)
        self.mask = self.filter.mask(self.frame)
        self.selection = np.zeros(0, dtype=np.int64)
        self.data_changed.emit()
        self.filter_changed.emit()
        self.selection_changed.emit()

    def add_waves(self, path: str, waves: pd.DataFrame, report: LoadReport) -> None:
        """Add an attack-wave table (one row per wave of one munition)."""
        part = waves.reset_index(drop=True)
        part["dataset"] = path
        self.waves = part if self.waves is None else pd.concat([self.waves, part], ignore_index=True)
        self.wave_datasets.append(Dataset(path, report))
        self.waves_changed.emit()

    # -- filter -----------------------------------------------------------
    def set_filter(self, state: FilterState) -> None:
        if state == self.filter:
            return
        self.filter = state
        self.mask = state.mask(self.frame)
        self.filter_changed.emit()
        kept = self.selection[self.mask[self.selection]] if len(self.selection) else self.selection
        if len(kept) != len(self.selection):
            self.selection = kept
            self.selection_changed.emit()

    @property
    def visible(self) -> pd.DataFrame:
        """The filtered rows, read on demand (never stored)."""
        return self.frame[self.mask]

    # -- selection --------------------------------------------------------
    def set_selection(self, positions) -> None:
        chosen = np.unique(np.asarray(list(positions), dtype=np.int64))
        chosen = chosen[(chosen >= 0) & (chosen < len(self.frame))]
        if np.array_equal(chosen, self.selection):
            return
        self.selection = chosen
        self.selection_changed.emit()

    def request_zoom_to_selection(self) -> None:
        if len(self.selection):
            self.zoom_to_selection_requested.emit()

    # -- view -------------------------------------------------------------
    def set_basemap(self, name: str) -> None:
        if name != self.basemap:
            self.basemap = name
            self.basemap_changed.emit(name)

    def add_basemap_file(self, archive: TileArchive) -> bool:
        """Draw ``archive`` over the others; False (and ``archive`` closed) when that file is already shown."""
        if any(a.key == archive.key for a in self.basemap_files):
            archive.close()
            return False
        self.basemap_files = self.basemap_files + [archive]
        self.basemap_files_changed.emit()
        return True

    def remove_basemap_file(self, key: str) -> bool:
        """Take the archive with ``key`` off the map and close it; False when none has that key."""
        gone = [a for a in self.basemap_files if a.key == key]
        if not gone:
            return False
        self.basemap_files = [a for a in self.basemap_files if a.key != key]
        for archive in gone:
            archive.close()
        self.basemap_files_changed.emit()
        return True

    def set_basemap_files(self, archives: list[TileArchive]) -> None:
        """Show exactly ``archives`` (a saved view's); archives shown before and not kept are closed."""
        kept = {id(a) for a in archives}
        old = self.basemap_files
        self.basemap_files = list(archives)
        for archive in old:
            if id(archive) not in kept:
                archive.close()
        self.basemap_files_changed.emit()

    def set_view_from_map(self, lat: float, lon: float, zoom: float) -> None:
        """The map reports where it is (``view_changed``: an open database may fetch what it shows)."""
        if (lat, lon, zoom) != self.view:
            self.view = (lat, lon, zoom)
            self.view_changed.emit()

    def request_view(self, lat: float, lon: float, zoom: float) -> None:
        """Ask the map to show this centre and zoom (saved views, go-to)."""
        self.view = (lat, lon, zoom)
        self.view_requested.emit(lat, lon, zoom)
