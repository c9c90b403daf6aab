"""Coordinates of the public-source exports (TimeMap, CIR): numbers from text cells, places from the
gazetteer, and the region check.

These sources write coordinates as text, sometimes free text, sometimes none; each row whose point
cannot be used is reported here (row, column, value) and rejected before the shared checks of
:func:`geodata.normalize.build_frame` run on the rest.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from geodata.gazetteer import resolve_parts
from geodata.normalize import REGION_BBOX
from geodata.readers.textfile import cell_text
from geodata.report import LoadReport


def parse_float(
    values: Sequence[object], rows: Sequence[int], report: LoadReport, column: str
) -> tuple[np.ndarray, set[int]]:
    """Numbers from cells that may hold text; free text is reported (error), never guessed."""
    out = np.full(len(values), np.nan)
    bad: set[int] = set()
    for i, (value, row) in enumerate(zip(values, rows)):
        raw = cell_text(value)
        if not raw:
            bad.add(row)
            report.add(row, column, f"{column} is missing")
            continue
        try:
            number = float(raw.replace(",", ".")) if raw.count(",") == 1 and "." not in raw else float(raw)
        except ValueError:
            bad.add(row)
            report.add(row, column, f"{column} '{raw}' is not a number")
            continue
        if not np.isfinite(number):
            bad.add(row)
            report.add(row, column, f"{column} '{raw}' is not a number")
            continue
        out[i] = number
    return out, bad


def parse_point(
    lat_values: Sequence[object],
    lon_values: Sequence[object],
    rows: Sequence[int],
    report: LoadReport,
    *,
    lat_column: str = "latitude",
    lon_column: str = "longitude",
    places: Sequence[str] | None = None,
    place_column: str = "location",
    locate: Callable[[str], object | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, set[int], dict[int, object]]:
    """Latitude and longitude from cells that may hold text.

    A row with both cells empty is placed from its place name (``places``) through the
    gazetteer (``locate``, default :func:`strict_place`) when that name resolves to
    one place (a warning says so and the precision is the place's);
    otherwise it gets one error. Returns lat, lon, the rows without usable
    coordinates, and the gazetteer Place of each placed row.
    """
    locate = locate or strict_place
    both_empty = [not cell_text(a) and not cell_text(b) for a, b in zip(lat_values, lon_values)]
    lat = np.full(len(rows), np.nan)
    lon = np.full(len(rows), np.nan)
    placed: dict[int, object] = {}
    bad: set[int] = set()
    for i, (row, empty) in enumerate(zip(rows, both_empty)):
        if not empty:
            continue
        name = cell_text(places[i]) if places is not None else ""
        place = locate(name) if name else None
        if place is None:
            bad.add(row)
            shown = name.strip(" ,")
            why = f"; place '{shown}' is not in the gazetteer (or names several places)" if shown else ""
            report.add(row, lat_column, f"no coordinates ({lat_column} and {lon_column} empty){why}")
            continue
        lat[i], lon[i] = place.lat, place.lon
        placed[row] = place
        report.add(row, place_column, f"no coordinates: placed at '{place.name}' ({place.kind}) from the "
                   f"gazetteer, location precision {place.geo_precision}", "warning")
    keep = [i for i, empty in enumerate(both_empty) if not empty]
    pick = lambda seq: [seq[i] for i in keep]  # noqa: E731
    lat_part, bad_lat = parse_float(pick(list(lat_values)), pick(list(rows)), report, lat_column)
    lon_part, bad_lon = parse_float(pick(list(lon_values)), pick(list(rows)), report, lon_column)
    lat[keep], lon[keep] = lat_part, lon_part
    return lat, lon, bad | bad_lat | bad_lon, placed


def apply_places(raw: pd.DataFrame, placed: dict[int, object]) -> None:
    """Give rows placed from the gazetteer the place's precision and oblast (where empty)."""
    rows = list(placed)
    if "geo_precision" not in raw.columns:
        raw["geo_precision"] = pd.Series(None, index=raw.index, dtype="object")
    raw.loc[rows, "geo_precision"] = [placed[r].geo_precision for r in rows]
    if "admin1" not in raw.columns:
        raw["admin1"] = pd.Series(None, index=raw.index, dtype="object")
    for row in rows:
        if not cell_text(raw.at[row, "admin1"]) and placed[row].admin1:
            raw.at[row, "admin1"] = placed[row].admin1


def strict_place(name: str):
    """The one place ``name`` names, every part of it known; None otherwise (never a guess:
    "Zzyzx, Kharkiv" is not placed at Kharkiv)."""
    parts = resolve_parts(name)
    places = {(p.kind, p.name, p.admin1): p for _, p in parts if p is not None}
    if not parts or any(p is None for _, p in parts) or len(places) != 1:
        return None
    return next(iter(places.values()))


def check_region(
    lat: np.ndarray,
    lon: np.ndarray,
    rows: Sequence[int],
    report: LoadReport,
    column: str = "latitude",
) -> set[int]:
    """Rows whose point lies far outside the region (reported as errors naming the point).

    A point that falls in the region once latitude and longitude are swapped is
    left to build_frame, which swaps it back and says so.
    """
    west, south, east, north = REGION_BBOX
    bad: set[int] = set()
    for y, x, row in zip(lat, lon, rows):
        if np.isnan(y) or np.isnan(x):
            continue
        inside = south <= y <= north and west <= x <= east
        swapped_inside = south <= x <= north and west <= y <= east
        if not inside and not swapped_inside:
            bad.add(row)
            report.add(row, column, f"point ({y:g}, {x:g}) is far outside Ukraine and its neighbours "
                       f"(lat {south:g}..{north:g}, lon {west:g}..{east:g}); row not loaded")
    return bad
