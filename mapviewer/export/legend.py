"""The print figure's events and legend: symbols from the style table, halos, counts."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geodata.schema import MUNITION_CLASSES, OUTCOMES
from geodata.style import CLASS_STYLE, NEUTRAL, OUTCOME_STYLE, PRECISION_HALO_M

if TYPE_CHECKING:
    pass

#: Largest halo drawn around an uncertain location, in points (one inch).
HALO_MAX_PT = 72.0
LINE_PT = 12.5  # legend line height in points


def marker_diameter(n: int) -> float:
    """Marker size in points: smaller when many events crowd the page."""
    if n <= 300:
        return 6.5
    if n <= 5000:
        return 4.5
    return 2.6


def halo_drawn(precision: str, metres_per_point: float, diameter: float) -> bool:
    """Whether events located only to a ``precision`` ("settlement", "region") get a halo on this map:
    region ones always; settlement ones when their halo, true to scale, is wider than the symbol."""
    if precision == "region":
        return True
    return 2 * PRECISION_HALO_M.get(precision, 0.0) / metres_per_point > diameter


# Bottom to top: the many interceptions first, impacts last so they are never hidden.
_OUTCOME_ZORDER = {"unknown": 10, "intercepted": 11, "debris": 12, "deviated": 13, "impact": 14}


def draw_incidents(ax, x: np.ndarray, y: np.ndarray, frame: pd.DataFrame, metres_per_point: float,
                    rasterize: bool, groups: dict) -> None:
    """One scatter per (outcome, class, precision) group, plus halos; impacts end on top.

    ``groups`` maps a group to its collection and is kept between calls: a group
    seen before gets new offsets and sizes (far cheaper than a new scatter), a
    group with no rows this time is hidden. Each group has its own z-order, so
    the drawing order does not depend on which frame first created it.
    """
    outcome_codes = pd.Categorical(frame["outcome"].astype(object), categories=list(OUTCOMES)).codes
    class_codes = pd.Categorical(frame["munition_class"].astype(object), categories=list(MUNITION_CLASSES)).codes
    outcome_codes = np.where(outcome_codes < 0, len(OUTCOMES) - 1, outcome_codes)
    class_codes = np.where(class_codes < 0, len(MUNITION_CLASSES) - 1, class_codes)
    precision = frame["geo_precision"].astype(object).to_numpy() if "geo_precision" in frame else np.full(len(frame), "exact")
    precision_codes = np.select([precision == "settlement", precision == "region"], [1, 2], 0)
    diameter = marker_diameter(len(frame))
    key = (outcome_codes.astype(np.int64) * 100 + class_codes) * 10 + precision_codes
    order = np.argsort(key, kind="stable")
    keys, starts = np.unique(key[order], return_index=True)
    drawn: dict = {}  # group -> (offsets, marker size in points)
    for o, outcome in enumerate(OUTCOMES):
        for level, name in ((1, "settlement"), (2, "region")):
            halo_pt = 2 * PRECISION_HALO_M[name] / metres_per_point
            if not halo_drawn(name, metres_per_point, diameter):
                continue  # a halo smaller than the symbol says nothing
            rows = (outcome_codes == o) & (precision_codes == level)
            if rows.any():
                # One halo per place: many events at one oblast centre must not stack into a blot.
                xy = np.unique(np.column_stack([x[rows], y[rows]]).round(0), axis=0)
                # True to scale, but never wider than an inch: on a city map a 30 km halo would
                # bury every other symbol.
                drawn[("halo", o, level)] = (xy, min(max(halo_pt, diameter * 2.2), HALO_MAX_PT))
    for group_key, rows in zip(keys, np.split(order, starts[1:])):
        drawn[int(group_key)] = (np.column_stack([x[rows], y[rows]]), diameter)
    for group, (xy, size) in drawn.items():
        collection = groups.get(group)
        if collection is None:
            collection = groups[group] = _group_collection(ax, group)
        collection.set_offsets(xy)
        collection.set_sizes([size ** 2])
        if not isinstance(group, tuple) and group % 10 == 0:
            # Small crowded symbols get no white rim: thousands of rims turn a cluster grey.
            collection.set_edgecolor("white" if diameter >= 4 else "none")
        collection.set_rasterized(rasterize)
        collection.set_visible(True)
    for group, collection in groups.items():
        if group not in drawn:
            collection.set_visible(False)


def _group_collection(ax, group):
    """An empty scatter styled for one group of :func:`draw_incidents`."""
    if isinstance(group, tuple):  # ("halo", outcome code, precision level)
        outcome = OUTCOMES[group[1]]
        return ax.scatter([], [], marker="o", c=OUTCOME_STYLE[outcome].colour, alpha=0.14, linewidths=0,
                          zorder=_OUTCOME_ZORDER[outcome] - 0.5 + group[2] * 1e-3, gid=f"halo-{outcome}")
    outcome = OUTCOMES[group // 1000]
    marker = CLASS_STYLE[MUNITION_CLASSES[(group // 10) % 100]].marker
    colour = OUTCOME_STYLE[outcome].colour
    zorder = _OUTCOME_ZORDER[outcome] + (group % 1000) * 1e-4  # class and precision order, as drawn before
    if group % 10 == 0:
        return ax.scatter([], [], marker=marker, c=colour, linewidths=0.6, zorder=zorder, gid=f"incidents-{outcome}")
    # Uncertain location: hollow, never drawn as if exact.
    return ax.scatter([], [], marker=marker, facecolors="white", edgecolors=colour, linewidths=1.1, zorder=zorder,
                      gid=f"incidents-{outcome}")


def legend_sections(frame: pd.DataFrame, settlement_halo: bool = False
                     ) -> list[tuple[str, list[tuple[dict, str, int]]]]:
    """(heading, rows) of the legend; each row is (symbol style, label, count).

    The location symbols are those the map draws: hollow for approximate
    places, with a halo for region-only ones and, when ``settlement_halo`` (the
    map is large-scale enough to draw them), for settlement-level ones.
    """
    outcomes = frame["outcome"].astype(object).value_counts()
    classes = frame["munition_class"].astype(object).value_counts()
    outcome_rows = [({"marker": "o", "c": OUTCOME_STYLE[o].colour, "edgecolors": "white"},
                     OUTCOME_STYLE[o].label, int(outcomes.get(o, 0))) for o in OUTCOMES if outcomes.get(o, 0)]
    class_rows = [({"marker": CLASS_STYLE[c].marker, "c": NEUTRAL["muted"], "edgecolors": "white"},
                   CLASS_STYLE[c].label, int(classes.get(c, 0))) for c in MUNITION_CLASSES if classes.get(c, 0)]
    sections = [("Outcome", outcome_rows), ("Munition class", class_rows)]
    precision = frame["geo_precision"].astype(object).value_counts() if "geo_precision" in frame else pd.Series()
    if precision.get("settlement", 0) or precision.get("region", 0):
        grey = NEUTRAL["muted"]
        sections.append(("Location", [
            ({"marker": "o", "c": grey, "edgecolors": "white"}, "Exact", int(precision.get("exact", 0))),
            ({"marker": "o", "facecolors": "white", "edgecolors": grey, "linewidths": 1.1}
             | ({"halo": "settlement"} if settlement_halo else {}),
             "Settlement (approximate)", int(precision.get("settlement", 0))),
            ({"marker": "o", "facecolors": "white", "edgecolors": grey, "linewidths": 1.1, "halo": "region"},
             "Region only", int(precision.get("region", 0))),
        ]))
        sections[-1] = (sections[-1][0], [row for row in sections[-1][1] if row[2]])
    return sections


_NOTE_PT = 6.5  # font size of the legend's note on events left out
_LEGEND_HALO_PT = {"settlement": 13.0, "region": 16.0}  # halo diameters in the legend's location rows


def _outside_words(shown: int, matching: int, unlocated: int) -> str:
    """"31 matching events, 19 outside the map area" (empty when every matching event is shown)."""
    outside = matching - shown
    if not outside and not unlocated:
        return ""
    total = matching + unlocated
    words = [f"{total:,} matching event{'s' if total != 1 else ''}"]
    if outside:
        words.append(f"{outside:,} outside the map area")
    if unlocated:
        words.append(f"{unlocated:,} with no location")
    return ", ".join(words)


def _wrap_chars(text: str, width: int) -> list[str]:
    """``text`` in lines of about ``width`` characters, broken between words."""
    import textwrap

    return textwrap.wrap(text, max(10, width)) or [text]


class Legend:
    """The legend, in its own axes whose data units are points.

    Its rows are laid out again only when the set of rows changes; otherwise an
    update only rewrites the counts (what changes from one animation frame to the next).
    """

    def __init__(self, ax, width_pt: float, height_pt: float, columns: int) -> None:
        ax.set_xlim(0, width_pt)
        ax.set_ylim(0, height_pt)
        ax.set_axis_off()
        self.ax, self.width_pt, self.height_pt, self.columns = ax, width_pt, height_pt, columns
        self._rows: list | None = None  # (heading, labels) of the rows laid out now
        self._artists: list = []
        self._counts: list = []  # the total line, then one count per row
        self._notes: list = []  # lines saying how many matching events are not shown

    def update(self, frame: pd.DataFrame, *, matching: int | None = None, unlocated: int = 0,
               settlement_halo: bool = False) -> None:
        """Show ``frame``'s rows (those on the map); ``matching`` rows passed the filters and have a
        place (more than shown: the rest are outside the map area); ``unlocated`` passed but have none."""
        sections = legend_sections(frame, settlement_halo)
        note = _outside_words(len(frame), len(frame) if matching is None else matching, unlocated)
        note_lines = _wrap_chars(note, int(self.width_pt / (0.6 * _NOTE_PT))) if note else []
        rows = [(heading, [(label, style.get("halo")) for style, label, _ in lines]) for heading, lines in sections]
        rows.append(("note", len(note_lines)))
        if rows != self._rows:
            for artist in self._artists:
                artist.remove()
            self._lay_out(sections, len(note_lines))
            self._rows = rows
        noun = "strike" if "reports" in frame.columns else "event"  # strike rows: each strike counted once
        shown = f"{len(frame):,} {noun}{'s' if len(frame) != 1 else ''} shown"
        counts = [shown] + [f"{count:,}" for _, lines in sections for *_, count in lines]
        for artist, text in zip(self._counts, counts):
            artist.set_text(text)
        for artist, text in zip(self._notes, note_lines):
            artist.set_text(text)

    def _lay_out(self, sections, note_lines: int = 0) -> None:
        ax, line, size = self.ax, LINE_PT, 7.5
        self._counts = [ax.text(0, self.height_pt, "", fontsize=8.5, fontweight="bold", va="top", ha="left")]
        # Under the head: how many matching events the map area leaves out.
        self._notes = [ax.text(0, self.height_pt - (1.05 + 0.8 * i) * line, "", fontsize=_NOTE_PT, va="top",
                               ha="left", color=NEUTRAL["text"], gid="outside-note") for i in range(note_lines)]
        self._artists = self._counts + self._notes
        column_width = self.width_pt / self.columns
        top = self.height_pt - (1.9 + 0.8 * note_lines) * line
        y = top
        for index, (heading, rows) in enumerate(sections):
            if self.columns > 1:  # one section per column (portrait pages)
                x, y = (index % self.columns) * column_width, top
            else:  # sections stacked (landscape side panel)
                x = 0.0
            self._artists.append(ax.text(x, y, heading, fontsize=8, fontweight="bold", va="top", ha="left"))
            y -= line
            for style, label, _ in rows:
                style = dict(style)
                halo = style.pop("halo", None)
                if halo:  # as on the map: a wider halo for the vaguer place
                    self._artists.append(ax.scatter([x + 6], [y - 4.5], s=_LEGEND_HALO_PT[halo] ** 2, c=NEUTRAL["muted"],
                                                    alpha=0.2, linewidths=0, gid=f"legend-halo-{halo}"))
                self._artists.append(ax.scatter([x + 6], [y - 4.5], s=size ** 2, **({"linewidths": 0.6} | style)))
                self._artists.append(ax.text(x + 15, y - 4.5, label, fontsize=7.5, va="center", ha="left"))
                count = ax.text(x + column_width - 8, y - 4.5, "", fontsize=7.5, va="center", ha="right")
                self._counts.append(count)
                self._artists.append(count)
                y -= line
            y -= 0.4 * line


