"""Centre for Information Resilience (CIR) monitor CSV exports.

Columns: ``entry, date, event_group, title, brief description, lat, lon, country,
province, district, town/city, arms/munition, violence level, link,
geolocation``. Mapping: entry -> event_id, town/city -> location, province ->
admin1, arms/munition -> munition (resolved by build_frame; generic words such as
"cruise missile" or "MLRS" give the class, text kept), link -> source_url,
brief description -> notes; every input column not mapped (title, event_group,
country, district, violence level, geolocation ...) is kept under its own name.

Only strike-like rows (event group "bombing or explosion" or "civilian
infrastructure damage") are loaded by default; ``all_events=True`` loads every
row. A row left out that way is not loaded, so it counts as rejected and is
listed with the message "excluded: event_group '...' is not strike-like (use
all_events=True)", plus one file-level summary, keeping rows_read ==
rows_loaded + rows_rejected.

Traps real exports hold, each reported with row and column: points far outside the
region and free text in lat/lon (the row not loaded), mistyped years (2202: kept with a
warning by the shared date checks, as in any file). A row with no coordinates but a
town/city the offline gazetteer knows is placed there (warning, with the place's
precision; ``geocode=False`` rejects it instead). Strike-like rows get outcome "impact"
(option ``outcome``), other rows "unknown". ``geolocation`` saying the point was not
geolocated gives geo_precision "settlement", else "exact".
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from geodata.errors import DataError
from geodata.gazetteer import resolve_place
from geodata.readers import coordinates, register
from geodata.readers.common import finish
from geodata.readers.textfile import cell_text, header_of, read_text_table
from geodata.report import LoadReport

NAME = "cir"

#: input column -> canonical column
COLUMN_MAP: dict[str, str] = {
    "entry": "event_id",
    "town/city": "location",
    "province": "admin1",
    "arms/munition": "munition",
    "link": "source_url",
    "brief description": "notes",
}
#: canonical column -> the file's header, so build_frame's messages name the user's columns
LABELS: dict[str, str] = {v: k for k, v in COLUMN_MAP.items()} | {
    "latitude": "lat", "longitude": "lon", "occurred_at": "date", "geo_precision": "geolocation"}
#: Generic arms/munition words that name a class but no catalogue munition (the text is kept).
ARMS_CLASSES: dict[str, str] = {
    "cruise missile": "cruise missile", "cruise missiles": "cruise missile",
    "ballistic missile": "ballistic missile", "ballistic missiles": "ballistic missile",
    "loitering munition": "loitering munition", "kamikaze drone": "loitering munition",
    "attack drone": "loitering munition", "mlrs": "rocket artillery", "rocket artillery": "rocket artillery",
    "multiple rocket launcher": "rocket artillery", "guided bomb": "guided bomb", "glide bomb": "guided bomb",
}
STRIKE_GROUPS = ("bombing or explosion", "civilian infrastructure damage")
SOURCE = "Centre for Information Resilience"
_NEGATIVE_GEOLOCATION = ("not", "no", "false", "unverified", "approximate", "approx")


def sniff(path: str | Path, head: bytes) -> bool:
    """True when the header line holds the CIR monitor's distinctive columns."""
    header = header_of(head)
    return {"event_group", "lat", "lon"} <= header and bool(
        header & {"brief description", "arms/munition", "violence level", "town/city"})


def read(path: str | Path, **options: Any):
    """Read a CIR monitor CSV into a checked canonical frame (LoadResult)."""
    raw, report, rejected = parse(path, **options)
    return finish(raw, raw.index, None, report, path=Path(path), labels=LABELS, rejected=rejected, **options)


def parse(
    path: str | Path,
    *,
    all_events: bool = False,
    encoding: str | None = None,
    outcome: str = "impact",
    geocode: bool = True,
    **_ignored: Any,
) -> tuple[pd.DataFrame, LoadReport, set[int]]:
    """The raw layer: every CSV record as one row (header = row 1), problems, rejected rows.

    Dates stay as written: :func:`read` has them read by the shared checks (DD/MM/YYYY when the
    data cannot tell the order).
    """
    path = Path(path)
    report = LoadReport(path=str(path), format=NAME)
    table, rejected = read_text_table(path, report, encoding=encoding)
    lower = {c.lower(): c for c in table.columns}
    missing = [c for c in ("date", "lat", "lon") if c not in lower]
    if missing:
        raise DataError(f"{path}: not a CIR monitor export: no column {', '.join(missing)}")
    rows = list(table.index)
    col = lambda name: table[lower[name]] if name in lower else pd.Series("", index=table.index)  # noqa: E731

    groups = [cell_text(v) for v in col("event_group")]
    strike = [_is_strike(g) for g in groups]
    if not all_events:
        excluded: Counter[str] = Counter()
        for row, group, ok in zip(rows, groups, strike):
            if not ok and row not in rejected:
                rejected.add(row)
                excluded[group or "(empty)"] += 1
                report.add(row, "event_group", f"excluded: event_group '{group}' is not strike-like "
                           "(File > Include non-strike events, --all-events or all_events=True)")
        if excluded:
            count = sum(excluded.values())
            report.add(None, "event_group", f"{count} row{'s' if count != 1 else ''} excluded as not strike-like ("
                       + ", ".join(f"{g}: {n}" for g, n in excluded.most_common())
                       + "); load them with File > Include non-strike events, --all-events or all_events=True",
                       "warning")
    # Rows already excluded are not checked further: their problems would be noise.
    checked = [r for r in rows if r not in rejected]
    sub = table.loc[checked]
    # "town, province" (either may be empty): locate_town tells the two apart
    places = [f"{cell_text(town)}, {cell_text(province)}" if cell_text(town) or cell_text(province) else ""
              for town, province in zip(col("town/city").loc[checked], col("province").loc[checked])]
    lat, lon, bad_point, placed = coordinates.parse_point(
        list(sub[lower["lat"]]), list(sub[lower["lon"]]), checked, report, lat_column="lat", lon_column="lon",
        places=places if geocode else None, place_column="town/city", locate=locate_town)
    bad_region = coordinates.check_region(lat, lon, checked, report, column="lat")
    rejected |= bad_point | bad_region

    raw = pd.DataFrame(index=table.index)
    raw["event_id"] = [cell_text(v) or f"{path.stem}-{r}" for v, r in zip(col("entry"), rows)]
    raw["occurred_at"] = pd.Series([cell_text(v) or None for v in col("date")], index=table.index, dtype="str")
    raw["latitude"] = pd.Series(lat, index=checked).reindex(table.index)
    raw["longitude"] = pd.Series(lon, index=checked).reindex(table.index)
    for source_name, canonical in COLUMN_MAP.items():
        if canonical != "event_id":
            raw[canonical] = [cell_text(v) or None for v in col(source_name)]
    raw["munition_class"] = [ARMS_CLASSES.get(cell_text(v).lower()) for v in col("arms/munition")]
    if "geolocation" in lower:  # without it build_frame applies (and reports) its default
        raw["geo_precision"] = [_geo_precision(cell_text(v)) for v in col("geolocation")]
    raw["outcome"] = [outcome if ok else "unknown" for ok in strike]
    if placed:
        coordinates.apply_places(raw, placed)
    raw["source"] = SOURCE
    mapped = set(COLUMN_MAP) | {"date", "lat", "lon"}
    for name in table.columns:
        if name.lower() not in mapped and name not in raw.columns:
            raw[name] = pd.Series([cell_text(v) or None for v in table[name]], index=table.index, dtype="str")
    return raw, report, rejected


def locate_town(text: str):
    """The gazetteer place of "town, province" (None when unknown; never a guess).

    The town when it is known and lies in the province; else the pair when it names
    one place (two towns of one name told apart by the province); else the province
    itself (region precision) when the town is unknown.
    """
    town, _, province = (part.strip() for part in text.partition(","))
    region = None
    admin1s: set[str | None] = set()
    if province:
        named = [resolve_place(f"{province} oblast"), resolve_place(province)]
        admin1s = {p.admin1 for p in named if p is not None}
        region = next((p for p in named if p is not None and p.kind == "oblast"), None)
    alone = coordinates.strict_place(town) if town else None
    # "Kyiv, Kyiv": the city is its own admin unit, named like the oblast
    if alone is not None and (not province or alone.admin1 in admin1s):
        return alone
    if town and province:
        pair = coordinates.strict_place(f"{town}, {region.name if region else province}")
        if pair is not None:
            return pair
    return region if alone is None else None


def _is_strike(group: str) -> bool:
    lowered = group.lower()
    return any(s in lowered for s in STRIKE_GROUPS)


def _geo_precision(value: str) -> str:
    words = value.lower().replace("-", " ").split()
    if not words or any(w in _NEGATIVE_GEOLOCATION for w in words):
        return "settlement"
    return "exact"


def _register() -> None:
    register(NAME, sniff, read)


_register()
