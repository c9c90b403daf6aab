"""Print figures for briefs and reports, drawn with matplotlib (no Qt, no pyplot).

:func:`render_figure` draws a page: title, a subtitle saying the filters and the
date range in words (both wrapped, and shrunk if need be, to fit between the
margins above the map), the offline basemap (with the largest settlements in
view named, more on a larger-scale map), the incidents styled from
:mod:`geodata.style` (outcome colour, class marker; uncertain locations hollow,
region-level ones with a halo, settlement-level ones too where the map is
large-scale enough; the legend shows the same symbols), a legend with counts
(and how many matching events lie outside the map area), a scale bar, a north
arrow, a source line and a short fingerprint that ties the figure to the rows
it shows (whatever they were read from), every filter field and the map extent. The map is drawn in a Lambert
azimuthal equal-area projection centred on the map, so distances and north are
true at the centre.

:class:`FigureRenderer` keeps one page and redraws only what depends on the
rows (symbols, legend counts, subtitle, footer note, fingerprint): animation
frames use it, and :func:`render_figure` is a renderer drawing once.

Text stays text in SVG (``svg.fonttype = none``) and PDF (TrueType, type 42).
Large point sets are rasterised inside vector outputs to keep files small.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from geodata.describe import describe_filter, munition_classes_of
from geodata.errors import DataError
from geodata.filters import FilterState
from geodata.points import has_point, lon_lat
from geodata.schema import DEFAULT_TZ, MUNITION_CLASSES
from geodata.strikes import strikes_words
from geodata.style import NEUTRAL
from geodata.text import visible_text
from mapviewer.export.basemap import (crs_for, data_extent, draw_basemap, draw_north_arrow, draw_places,
                                      draw_scale_bar, draw_tile_archives, fit_limits,
                                      transformer_for)
from mapviewer.export.legend import LINE_PT, Legend, draw_incidents, halo_drawn, legend_sections, marker_diameter

if TYPE_CHECKING:
    pass

#: Page presets: name -> (width, height) in inches.
PAGES: dict[str, tuple[float, float]] = {
    "A4-landscape": (11.693, 8.268),
    "A4-portrait": (8.268, 11.693),
    "Letter-landscape": (11.0, 8.5),
    "Letter-portrait": (8.5, 11.0),
    "slide-16:9": (13.333, 7.5),
}
_PAGE_ALIASES = {"a4": "A4-landscape", "letter": "Letter-landscape", "16:9": "slide-16:9",
                 "slide": "slide-16:9", "16x9": "slide-16:9", "slide-16x9": "slide-16:9"}

#: Output formats by file suffix.
FIGURE_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


#: Above this many points, markers are drawn as one raster image inside PDF/SVG.
RASTER_THRESHOLD = 2000

_RC = {
    "svg.fonttype": "none",  # text stays <text> in SVG
    "pdf.fonttype": 42,  # TrueType text in PDF: selectable and searchable
    "font.family": "DejaVu Sans",  # ships with matplotlib, has Cyrillic
    "svg.hashsalt": "mapviewer",  # stable ids in SVG output
    "text.parse_math": False,  # titles and labels hold record text: a "$" is a dollar sign, never mathtext
}

NATURAL_EARTH_CREDIT = "Basemap: Natural Earth (public domain)"
GEONAMES_CREDIT = "oblast boundaries approximate, from GeoNames (CC BY 4.0)"
PLACES_CREDIT = "place names: GeoNames (CC BY 4.0)"
_GEONAMES_BOTH_CREDIT = "approximate oblasts and place names: GeoNames (CC BY 4.0)"  # as short: the footer is one line


# -- words --------------------------------------------------------------------

def page_size(page: str) -> tuple[float, float]:
    """Width and height in inches of a page preset (case-insensitive; ``A4``, ``16:9`` accepted)."""
    for name, size in PAGES.items():
        if page.lower() == name.lower():
            return size
    alias = _PAGE_ALIASES.get(page.lower())
    if alias:
        return PAGES[alias]
    raise DataError(f"unknown page {page!r}; use one of {', '.join(PAGES)}")


#: Longest figure title, in characters: a page holds about this much in a few lines, and wrapping
#: and fitting a longer one to the page takes seconds to minutes (8,000 characters took 19 s).
TITLE_MAX = 300
#: The filters in words above the map are cut to this many characters: more never fits a page, and
#: wrapping a search text thousands of characters long would stall the figure for minutes.
SUBTITLE_MAX = 600


def cap_title(title: str | None) -> tuple[str | None, str | None]:
    """``title`` cut to :data:`TITLE_MAX` characters (with "…"), and a message when it was cut."""
    if title is None or len(title) <= TITLE_MAX:
        return title, None
    message = f"the title is {len(title):,} characters long: cut to the first {TITLE_MAX}"
    return title[:TITLE_MAX - 1].rstrip() + "…", message


def fingerprint(source_paths: Iterable[str | os.PathLike] = (), description: str = "",
                frame: pd.DataFrame | None = None, *, filter_state: FilterState | None = None,
                extent: Sequence[float] | None = None) -> str:
    """A short hash of the rows shown, the filters and the map area.

    ``frame`` holds the rows shown: their canonical fields are hashed
    (:func:`geodata.fingerprint.rows_digest`: the same rows give the same
    fingerprint in any order, read from any file or database). The filters are
    hashed as :func:`filter_json` of ``filter_state`` when given (every field,
    whatever the words shorten), else as ``description``. Only without a frame
    are the bytes of ``source_paths`` hashed instead (missing files raise
    :class:`DataError`).
    """
    return _finish_fingerprint(_files_digest(source_paths), description, frame, filter_state, extent)


def _canonical(value):
    """A JSON-ready value that is the same for equal filters however they were built."""
    if isinstance(value, (set, frozenset)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, default=str))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    return value


def filter_json(filter_state: FilterState) -> str:
    """Every field of ``filter_state`` as canonical JSON (sorted keys and sets): what the fingerprint hashes."""
    fields = {f.name: _canonical(getattr(filter_state, f.name)) for f in dataclasses.fields(filter_state)}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _files_digest(source_paths: Iterable[str | os.PathLike]):
    """A sha256 object fed the bytes of each file (None when there are no files)."""
    paths = [Path(p) for p in source_paths]
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in paths:
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise DataError(f"{path}: cannot read for the fingerprint: {exc.strerror or exc}") from None
        digest.update(b"\0")
    return digest


def _finish_fingerprint(files_digest, description: str, frame: pd.DataFrame | None,
                        filter_state: FilterState | None = None, extent: Sequence[float] | None = None) -> str:
    """The fingerprint of the rows in ``frame`` (else of the files hashed by :func:`_files_digest`,
    left unchanged: it is copied), the filters and the extent."""
    if frame is not None:
        from geodata.fingerprint import rows_digest

        digest = hashlib.sha256(b"rows\0" + rows_digest(frame).encode("ascii"))
    else:
        digest = files_digest.copy() if files_digest is not None else hashlib.sha256()
    if filter_state is not None:
        digest.update(b"\0filter\0" + filter_json(filter_state).encode("utf-8"))
    else:
        digest.update(description.encode("utf-8"))
    if extent is not None:
        digest.update(b"\0extent\0" + json.dumps([round(float(v), 6) for v in extent]).encode("ascii"))
    return digest.hexdigest()[:12]


# -- the figure ---------------------------------------------------------------

def select_rows(frame: pd.DataFrame, filter_state: FilterState | None = None) -> pd.DataFrame:
    """The rows a figure of ``frame`` under ``filter_state`` is about: passing the filter, with a location."""
    if filter_state is not None and len(frame):
        frame = frame[filter_state.mask(frame)]
    return frame[has_point(frame)] if len(frame) else frame


_HEADING_SPACING = 1.2  # line height over font size in the title and subtitle
#: (title, subtitle) font sizes tried in turn until both fit above the map.
_HEADING_SIZES = ((17.0, 10.0), (15.0, 9.5), (13.5, 9.0), (12.0, 8.5), (11.0, 8.0), (10.0, 7.5), (9.0, 7.0))


def _wrap_to_width(text: str, prop, width_px: float, renderer) -> list[str]:
    """``text`` in lines no wider than ``width_px`` as drawn in ``prop``: broken between words, and
    inside a word only when it is wider than the line by itself."""
    def width(s: str) -> float:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0]

    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if width(candidate) <= width_px:
                line = candidate
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and width(word) > width_px:
                lo, hi = 1, len(word) - 1  # the longest start of the word that fits
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    lo, hi = (mid, hi) if width(word[:mid]) <= width_px else (lo, mid - 1)
                lines.append(word[:lo])
                word = word[lo:]
            line = word
        lines.append(line)
    return lines


def _cut_lines(lines: list[str], most: int) -> list[str]:
    """At most ``most`` lines, the last ending in "…" when some were left out."""
    if len(lines) <= most:
        return lines
    kept = lines[:most]
    kept[-1] = kept[-1][:-1].rstrip() + "…"
    return kept


def _fit_heading(title: str, subtitle: str, width_in: float, height_in: float, renderer):
    """((title lines, size), (subtitle lines, size), gap in points) filling ``width_in`` by ``height_in``."""
    from matplotlib.font_manager import FontProperties

    width_px = renderer.points_to_pixels(width_in * 72)
    room = height_in * 72
    for title_pt, sub_pt in _HEADING_SIZES:
        title_lines = _wrap_to_width(title, FontProperties(size=title_pt, weight="bold"), width_px, renderer)
        sub_lines = _wrap_to_width(subtitle, FontProperties(size=sub_pt), width_px, renderer) if subtitle else []
        gap = 0.4 * title_pt
        needed = (len(title_lines) * title_pt + len(sub_lines) * sub_pt) * _HEADING_SPACING + gap
        if needed <= room:
            return (title_lines, title_pt), (sub_lines, sub_pt), gap
    # Not even the smallest sizes fit: keep what does, the title first, and say the rest was cut.
    most_title = max(1, int((room - gap - sub_pt * _HEADING_SPACING) // (title_pt * _HEADING_SPACING)))
    title_lines = _cut_lines(title_lines, most_title)
    rest = room - gap - len(title_lines) * title_pt * _HEADING_SPACING
    sub_lines = _cut_lines(sub_lines, max(1, int(rest // (sub_pt * _HEADING_SPACING))))
    return (title_lines, title_pt), (sub_lines, sub_pt), gap


class FigureRenderer:
    """One print-figure page, reused: the static parts are drawn once, :meth:`draw` redraws the data.

    The constructor lays out the page and draws the map frame, basemap, country
    and oblast labels, scale bar and north arrow for ``extent`` (west, south,
    east, north in degrees). Each :meth:`draw` replaces only what depends on
    the rows: incident symbols, legend, title and subtitle, the footer's note
    and the fingerprint. Animation frames are drawn this way, and
    :func:`render_figure` is one renderer drawing once.

    ``legend_rows`` (portrait pages only) is how many legend rows the page
    keeps room for; the default fits every munition class.
    ``highlight`` names oblasts outlined in bold. ``tile_archives`` (open
    :class:`geodata.tiles.TileArchive` objects, bottom first) are drawn over the land and under the
    outlines, once, at the page's resolution; their attributions join the footer's credits.
    """

    def __init__(self, extent: tuple[float, float, float, float], *, page: str = "A4-landscape", dpi: float = 300,
                 title: str | None = None, source_paths: Sequence[str | os.PathLike] = (), basemap: bool = True,
                 highlight: Iterable[str] = (), legend_rows: int | None = None,
                 tile_archives: Sequence = ()) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        width, height = page_size(page)
        west, south, east, north = (float(v) for v in extent)
        if not (west < east and south < north and -180 <= west and east <= 180 and -90 <= south and north <= 90):
            raise DataError(f"bad map extent {tuple(extent)}: need west < east and south < north in degrees")
        self.extent = (west, south, east, north)
        self.source_paths = list(source_paths)
        self._files_digest = None  # the fingerprint hashes the rows drawn, not the files (or database)
        self.default_title = cap_title(title)[0] or "Strike events"
        self._incidents: dict = {}  # incident groups -> their collections, reused frame to frame
        with rc_context(_RC):
            fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
            FigureCanvasAgg(fig)
            # the footer holds three lines: fingerprint and data files, the note, the credits
            margin, header, footer = 0.35, 0.95, 0.45
            landscape = width >= height
            legend_w = 2.45 if landscape else width - 2 * margin
            # Portrait: sections side by side, as tall as the longest one needs.
            longest = len(MUNITION_CLASSES) if legend_rows is None else legend_rows
            # Portrait: room for the two lines of the note on events outside the map area too.
            legend_h = height - 2 * margin - header - footer if landscape else (5.0 + longest) * LINE_PT / 72
            if landscape:
                map_box = (margin, margin + footer, width - 2 * margin - legend_w - 0.2,
                           height - 2 * margin - header - footer)
                legend_box = (width - margin - legend_w, margin + footer, legend_w, legend_h)
            else:
                map_h = height - 2 * margin - header - footer - legend_h - 0.15
                map_box = (margin, margin + footer + legend_h + 0.15, width - 2 * margin, map_h)
                legend_box = (margin, margin + footer, legend_w, legend_h)

            # The title comes first: save_figure takes the file's title from fig.texts[0].
            # Both are wrapped (and shrunk if need be) by _fit_heading to the width between the margins
            # and the height above the map; record text in them is never parsed as math.
            self._title = fig.text(margin / width, 1 - margin / height, self.default_title, fontsize=17,
                                   fontweight="bold", va="top", ha="left", gid="title", parse_math=False,
                                   linespacing=_HEADING_SPACING)
            self._subtitle = fig.text(margin / width, 1 - (margin + 0.42) / height, "", fontsize=10,
                                      color=NEUTRAL["text"], va="top", ha="left", gid="subtitle", parse_math=False,
                                      linespacing=_HEADING_SPACING)
            self._heading_box = (margin, width - 2 * margin, header - 0.1)  # left, width, height in inches
            self._heading_cache: dict = {}

            ax = fig.add_axes([map_box[0] / width, map_box[1] / height, map_box[2] / width, map_box[3] / height],
                              label="map")
            crs = crs_for(west, south, east, north)
            transformer = transformer_for(crs)
            edge_lon = np.concatenate([np.linspace(west, east, 25), np.full(25, east), np.linspace(east, west, 25),
                                       np.full(25, west)])
            edge_lat = np.concatenate([np.full(25, south), np.linspace(south, north, 25), np.full(25, north),
                                       np.linspace(north, south, 25)])
            ex, ey = transformer.transform(edge_lon, edge_lat)
            limits = fit_limits((ex.min(), ey.min(), ex.max(), ey.max()), map_box[2], map_box[3])
            ax.set_xlim(*limits[0])
            ax.set_ylim(*limits[1])
            ax.set_aspect("equal", adjustable="box")
            ax.set_facecolor(NEUTRAL["water"])
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(NEUTRAL["muted"])
                spine.set_linewidth(0.8)

            # The lon/lat window the page shows, generously padded, for clipping the basemap.
            gx, gy = np.meshgrid(np.linspace(*limits[0], 15), np.linspace(*limits[1], 15))
            glon, glat = transformer.transform(gx.ravel(), gy.ravel(), direction="INVERSE")
            pad = 0.5
            lonlat_box = (round(float(np.min(glon)) - pad, 2), round(float(np.min(glat)) - pad, 2),
                          round(float(np.max(glon)) + pad, 2), round(float(np.max(glat)) + pad, 2))
            used_geonames = False
            if basemap:
                _, used_geonames = draw_basemap(ax, crs, lonlat_box, limits, tuple(highlight))
            tile_credit = (draw_tile_archives(ax, tile_archives, crs, limits, round(map_box[2] * dpi),
                                               round(map_box[3] * dpi), (south + north) / 2)
                           if tile_archives else "")
            self._empty = ax.text(0.5, 0.5, "No events match the filters in this area", transform=ax.transAxes,
                                  ha="center", va="center", fontsize=11, color=NEUTRAL["muted"], zorder=25, visible=False)
            draw_scale_bar(ax, limits)
            draw_north_arrow(ax, limits, transformer)
            # After the scale bar and arrow, which the names keep clear of; drawn once, like the basemap.
            places = draw_places(ax, transformer, limits) if basemap else []

            legend_ax = fig.add_axes([legend_box[0] / width, legend_box[1] / height, legend_box[2] / width,
                                      legend_box[3] / height], label="legend")
            self._legend = Legend(legend_ax, legend_box[2] * 72, legend_box[3] * 72, 1 if landscape else 3)

            geonames = {(True, True): _GEONAMES_BOTH_CREDIT, (True, False): GEONAMES_CREDIT,
                        (False, True): PLACES_CREDIT}.get((used_geonames, bool(places)))
            self._credit = NATURAL_EARTH_CREDIT + (f"; {geonames}" if geonames else "")
            if tile_credit:  # first: the line is cut at the page's width, and tile terms usually ask for credit
                self._credit = f"{tile_credit}; {self._credit}"
            # One line each, bottom up: credits, note, fingerprint; each cut to the page's width.
            self._credits, self._note, self._stamp = (
                fig.text(margin / width, (margin + 0.12 * line) / height, "", fontsize=6.5, color=NEUTRAL["muted"],
                         va="bottom", ha="left", gid=gid)
                for line, gid in enumerate(("credits", "note", "fingerprint")))
            self._footer_chars = int((width - 2 * margin) * 72 / (6.5 * 0.56))  # DejaVu Sans: ~0.56 em a char
        self.figure = fig
        self._ax = ax
        self._crs, self.transformer_for, self._limits = crs, transformer, limits
        self._metres_per_point = (limits[0][1] - limits[0][0]) / (map_box[2] * 72)

    def draw(self, frame: pd.DataFrame, filter_state: FilterState | None = None, *, title: str | None = None,
             note: str | None = None, classes: dict[str, str] | None = None, unlocated: int = 0) -> Figure:
        """Show ``frame``'s rows (already filtered, see :func:`select_rows`) and return the figure.

        ``filter_state`` is described in the subtitle and fingerprinted with the
        map extent; ``note`` adds a line to the footer; ``classes`` as in
        :func:`describe_filter`. Rows outside the map area are counted in the
        legend, with ``unlocated`` (rows that passed the filters with no place).
        """
        description = describe_filter(filter_state, frame, classes=classes)
        counted = strikes_words(frame)  # rows that are strikes (geodata.strikes): "N strikes from M reports"
        if counted:
            description = f"{description} · {counted}"
        title = cap_title(title)[0]  # callers say when they cut it; this keeps any title from stalling a page
        limits = self._limits
        with rc_context(_RC):
            # Control characters in data text are shown escaped: drawn raw they would make an SVG
            # that is no longer XML (matplotlib escapes markup, not C0 characters).
            subtitle = description if len(description) <= SUBTITLE_MAX else description[:SUBTITLE_MAX - 1].rstrip() + "…"
            self._fit_heading(visible_text(title or self.default_title), visible_text(subtitle))
            if len(frame):
                x, y = self.transformer_for.transform(*lon_lat(frame))
            else:
                x, y = np.zeros(0), np.zeros(0)
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            inside = (x >= limits[0][0]) & (x <= limits[0][1]) & (y >= limits[1][0]) & (y <= limits[1][1])
            shown = frame[inside]
            draw_incidents(self._ax, x[inside], y[inside], shown, self._metres_per_point,
                            rasterize=len(shown) > RASTER_THRESHOLD, groups=self._incidents)
            self._empty.set_visible(not len(shown))
            halo = halo_drawn("settlement", self._metres_per_point, marker_diameter(len(shown)))
            self._legend.update(shown, matching=len(frame), unlocated=unlocated, settlement_halo=halo)

            tz = filter_state.tz if filter_state is not None else DEFAULT_TZ
            self._credits.set_text(self._fit_footer(f"{self._credit} · dates in {tz} time"))
            self._note.set_text(self._fit_footer(visible_text(note or "")))
            names = [Path(p).name for p in self.source_paths]
            data = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
            from mapviewer import __version__

            code = _finish_fingerprint(self._files_digest, description, frame, filter_state or FilterState(),
                                       self.extent)
            # the data files last: a long list is what gets cut, never the fingerprint
            stamp = f"fingerprint {code} · mapviewer {__version__}" + (f" · data: {data}" if data else "")
            self._stamp.set_text(self._fit_footer(visible_text(stamp)))
        self.figure.mapviewer_info = {"crs": self._crs, "fingerprint": stamp.split()[1], "shown": len(shown),
                                      "matching": len(frame) + unlocated, "description": visible_text(description),
                                      "title": visible_text(title or self.default_title)}  # file metadata
        return self.figure

    def _fit_heading(self, title: str, subtitle: str) -> None:
        """Set the title and subtitle wrapped to the page between the margins, shrunk until both fit
        above the map (cut with "…" only if they do not fit even at the smallest sizes)."""
        key = (title, subtitle)
        fitted = self._heading_cache.get(key)
        if fitted is None:
            fitted = self._heading_cache[key] = _fit_heading(title, subtitle, *self._heading_box[1:],
                                                             self.figure.canvas.get_renderer())
            if len(self._heading_cache) > 64:  # animation frames each have a title: keep a few
                self._heading_cache.pop(next(iter(self._heading_cache)))
        (title_lines, title_pt), (sub_lines, sub_pt), gap_pt = fitted
        height = self.figure.get_size_inches()[1]
        top = 1 - self._heading_box[0] / height  # the top margin is as wide as the side ones
        self._title.set_text("\n".join(title_lines))
        self._title.set_fontsize(title_pt)
        self._subtitle.set_text("\n".join(sub_lines))
        self._subtitle.set_fontsize(sub_pt)
        title_h = len(title_lines) * title_pt * _HEADING_SPACING / 72
        self._subtitle.set_y(top - (title_h + gap_pt / 72) / height)

    def _fit_footer(self, text: str) -> str:
        """``text`` cut with an ellipsis to what one footer line holds."""
        return text if len(text) <= self._footer_chars else text[:self._footer_chars - 1].rstrip() + "…"

    def rgb(self) -> np.ndarray:
        """The page as drawn now: an (height, width, 3) uint8 image."""
        with rc_context(_RC):
            self.figure.canvas.draw()
        return np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy()


def render_figure(
    frame: pd.DataFrame,
    *,
    filter_state: FilterState | None = None,
    title: str | None = None,
    page: str = "A4-landscape",
    dpi: float = 300,
    out: str | os.PathLike | None = None,
    extent: tuple[float, float, float, float] | None = None,
    source_paths: Sequence[str | os.PathLike] = (),
    basemap: bool = True,
    note: str | None = None,
    tile_archives: Sequence = (),
) -> Figure:
    """Draw the print figure of ``frame``'s rows that pass ``filter_state``.

    ``extent`` is (west, south, east, north) in degrees; by default the events'
    bounds (or Ukraine when none). ``source_paths`` are the data files, hashed
    into the fingerprint and named in the footer. With ``out``, the figure is
    also saved there (PNG, PDF or SVG by suffix) atomically. ``note`` adds a line
    to the footer (an animation frame's time, for example). ``tile_archives``
    are drawn under the events (see :class:`FigureRenderer`). Drawing many
    figures of one area: use :class:`FigureRenderer`.
    """
    if out is not None and Path(out).suffix.lower() not in FIGURE_FORMATS:
        raise DataError(f"{out}: figures are saved as {', '.join(FIGURE_FORMATS)}; the suffix says otherwise")
    classes = munition_classes_of(frame)  # of all the rows: what the munition filter chose from
    left_out = int(filter_state.straddling(frame).sum()) if filter_state is not None else 0
    if left_out:
        words = (f"{left_out:,} event{'s' if left_out != 1 else ''} dated only to a day or month "
                 "reaching outside the dates not shown")
        note = f"{note} · {words}" if note else words
    matching = frame[filter_state.mask(frame)] if filter_state is not None and len(frame) else frame
    frame = select_rows(matching)
    renderer = FigureRenderer(
        tuple(extent) if extent is not None else data_extent(frame), page=page, dpi=dpi, title=title,
        source_paths=source_paths, basemap=basemap,
        highlight=filter_state.admin1 if filter_state is not None and filter_state.admin1 else (),
        legend_rows=legend_rows(frame), tile_archives=tile_archives)
    fig = renderer.draw(frame, filter_state, note=note, classes=classes, unlocated=len(matching) - len(frame))
    if out is not None:
        save_figure(fig, out)
    return fig


def legend_rows(frame: pd.DataFrame) -> int:
    """Rows of the longest legend section for ``frame`` (what a portrait page keeps room for)."""
    return max((len(rows) for _, rows in legend_sections(frame, settlement_halo=True)), default=0)


def save_figure(fig: Figure, out: str | os.PathLike, *, dpi: float | None = None) -> Path:
    """Save as PNG, PDF or SVG by suffix, atomically, with text kept as text."""
    from geodata.writers import atomic_path

    fmt = FIGURE_FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise DataError(f"{out}: figures are saved as {', '.join(FIGURE_FORMATS)}; the suffix says otherwise")
    info = getattr(fig, "mapviewer_info", {})
    metadata = {"Title": info.get("title") or (fig.texts[0].get_text() if fig.texts else None)}
    if fmt == "png":
        metadata["Description"] = info.get("description")
        metadata["Software"] = "mapviewer"
    elif fmt == "pdf":
        metadata |= {"Subject": info.get("description"), "Creator": "mapviewer", "CreationDate": None}
    else:
        metadata |= {"Description": info.get("description"), "Date": None}
    metadata = {k: v for k, v in metadata.items() if v is not None or k in ("CreationDate", "Date")}
    with rc_context(_RC), atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi or fig.dpi, metadata=metadata)
    return Path(out)


def figure_pixel(fig: Figure, lon: float, lat: float) -> tuple[float, float]:
    """Where a lon/lat point lands in the saved PNG: (column, row) with row 0 at the top."""
    ax = next(a for a in fig.axes if a.get_label() == "map")
    x, y = transformer_for(fig.mapviewer_info["crs"]).transform(lon, lat)
    px, py = ax.transData.transform((x, y))
    return float(px), float(fig.bbox.height - py)
