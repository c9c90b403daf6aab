"""Finding the canonical columns among a file's own headers."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from geodata.errors import DataError
from geodata.schema import CANONICAL_COLUMNS

#: Every name a column may be mapped to (``time`` is a separate time-of-day column).
TARGETS = tuple(c for c in CANONICAL_COLUMNS if c != "geometry") + (
    "latitude", "longitude", "munition_class", "time", "wkt",
)

# Usual headers for each target, compared after lower-casing and turning spaces/hyphens into "_".
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "event_id": ("event_id", "id", "eventid", "incident_id", "uid", "record_id", "id_події", "ід"),
    "occurred_at": ("occurred_at", "date", "datetime", "date_time", "timestamp", "event_date", "date_utc",
                    "date_local", "when", "occurred_a", "дата", "дата_та_час", "дата_і_час", "дата_время", "date/time"),
    "time": ("time", "time_local", "local_time", "час", "время"),
    "wkt": ("wkt", "geometry", "the_geom", "geom", "wkt_geom"),
    "time_precision": ("time_precision", "time_preci"),
    "latitude": ("lat", "latitude", "y", "lat_dd", "широта"),
    "longitude": ("lon", "lng", "long", "longitude", "x", "lon_dd", "довгота", "долгота"),
    "location": ("location", "place", "settlement", "city", "town", "locality", "place_name",
                 "населений_пункт", "місце", "место", "нп"),
    "admin1": ("admin1", "oblast", "region", "province", "область", "регіон", "регион"),
    "geo_precision": ("geo_precision", "geo_precis", "location_precision", "precision", "точність"),
    "munition": ("munition", "weapon", "weapon_type", "munition_type", "type", "missile_type", "weapon_name",
                 "засіб_ураження", "зброя", "тип", "озброєння", "оружие"),
    "munition_class": ("munition_class", "munition_c", "weapon_class", "class"),
    "outcome": ("outcome", "result", "status", "результат", "наслідок"),
    "killed": ("killed", "deaths", "dead", "fatalities", "killed_n", "загинули", "загиблі", "погибли"),
    "injured": ("injured", "wounded", "injuries", "injured_n", "поранені", "поранено", "ранены"),
    "source": ("source", "sources", "джерело", "источник"),
    "source_url": ("source_url", "url", "link", "links", "source_link", "посилання", "ссылка"),
    "notes": ("notes", "note", "description", "comment", "comments", "details", "примітки", "опис", "описание"),
}
# (Shapefile field names are cut to 10 characters: occurred_a, time_preci, geo_precis, munition_c.)
_LOOKUP = {name: target for target, names in _SYNONYMS.items() for name in names}
_COORDS = ("latitude", "longitude", "wkt")


def _listed(names: Sequence[object], limit: int = 40) -> str:
    shown = [" ".join(str(n).split()) for n in list(names)[:limit]]
    return ", ".join(shown) + (f", ... ({len(names)} columns)" if len(names) > limit else "")


def header_key(name: str) -> str:
    """A header as compared with the usual names."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().casefold())


def unique_headers(names: Sequence[object]) -> list[str]:
    """Headers made unique ("name", "name.1", ...) and never empty ("column_3")."""
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        base = str(name).strip() if name is not None and str(name).strip() else f"column_{i}"
        label, k = base, 0
        while label in seen:
            k += 1
            label = f"{base}.{k}"
        seen.add(label)
        out.append(label)
    return out


def map_headers(
    headers: Sequence[str],
    *,
    path: str,
    columns: Mapping[str, str] | None = None,
    lat: str | None = None,
    lon: str | None = None,
    coordinates: bool = True,
) -> dict[str, str]:
    """Map file headers to canonical names: ``{header: target}``.

    ``columns`` maps the file's headers to canonical names (the reverse, canonical to
    header, is accepted too); ``lat``/``lon`` name the coordinate columns. Headers not
    mapped are extra columns. With ``coordinates=False`` (vector files, which have a
    geometry) no header becomes latitude/longitude unless asked for.
    """
    present = list(headers)
    mapping: dict[str, str] = {}
    wanted: dict[str, str] = dict(columns or {})
    if lat:
        wanted[lat] = "latitude"
    if lon:
        wanted[lon] = "longitude"
    for key, value in wanted.items():
        header, target = key, value
        if key not in present and value in present and key in TARGETS:
            header, target = value, key
        if target not in TARGETS:
            raise DataError(f"{path}: column mapping: {target!r} is not one of {', '.join(TARGETS)}")
        if header not in present:
            raise DataError(f"{path}: column mapping: the file has no column {header!r} (it has {_listed(present)})")
        mapping[header] = target
    taken = set(mapping.values())
    # a header spelled exactly like a canonical name wins over a synonym ("event_id" over "id")
    exact_first = sorted(present, key=lambda h: header_key(h) not in TARGETS)
    for header in exact_first:
        if header in mapping:
            continue
        target = _LOOKUP.get(header_key(header))
        if target is None or target in taken or (not coordinates and target in _COORDS):
            continue
        mapping[header] = target
        taken.add(target)
    if "time" in taken and "occurred_at" not in taken:
        # a lone "time" column holds the whole date and time
        for header, target in mapping.items():
            if target == "time":
                mapping[header] = "occurred_at"
    return mapping


def require(mapping: Mapping[str, str], headers: Sequence[str], *, path: str, coordinates: bool = True) -> None:
    """Raise DataError when the columns needed to place an event in time and space are absent."""
    targets = set(mapping.values())
    if coordinates and not {"latitude", "longitude"} <= targets and "wkt" not in targets:
        missing = [t for t in ("latitude", "longitude") if t not in targets]
        raise DataError(
            f"{path}: no {' or '.join(missing)} column found (looked for lat/latitude/y and "
            f"lon/lng/long/longitude/x among: {_listed(headers)}); name them with columns="
        )
    if "occurred_at" not in targets:
        raise DataError(
            f"{path}: no date column found (looked for date/datetime/occurred_at/event_date among: "
            f"{_listed(headers)}); name it with columns="
        )
