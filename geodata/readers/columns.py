"""Finding the canonical columns among a file's own headers."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from geodata.errors import DataError
from geodata.schema import CANONICAL_COLUMNS

#: Every name a column may be mapped to (``time`` is a separate time-of-day column;
#: ``coordinates`` one column holding "latitude, longitude", e.g. "50.45, 30.52").
TARGETS = tuple(c for c in CANONICAL_COLUMNS if c != "geometry") + (
    "latitude", "longitude", "coordinates", "munition_class", "time", "wkt",
)


class Names(NamedTuple):
    """How a target column is recognised among a file's headers."""

    exact: tuple[str, ...]
    """Whole headers, compared after :func:`header_key`; plain Open uses these."""
    stems: tuple[str, ...] = ()
    """Word beginnings inside a longer header ("Дата події", "Кількість загиблих"); only
    suggested to a person (the column mapping form), never applied silently."""


#: The one table of usual header names (English, Ukrainian, Russian), used by the readers and by
#: the mapping form's suggestions. Order matters for stems: the first target whose stem matches a
#: header takes it ("url" before "location", "source_url" before "source").
NAMES: dict[str, Names] = {
    "event_id": Names(("event_id", "id", "eventid", "incident_id", "uid", "record_id", "id_події", "ід"),
                      ("id", "ід", "№", "номер")),
    "occurred_at": Names(("occurred_at", "date", "datetime", "date_time", "timestamp", "event_date", "date_utc",
                          "date_local", "when", "occurred_a", "дата", "дата_та_час", "дата_і_час", "дата_время",
                          "дата_и_время", "date/time", "date_and_time", "date_of_attack", "attack_date",
                          "date_of_strike", "strike_date", "date_of_incident", "incident_date", "date_of_event",
                          "дата_атаки", "дата_події", "дата_обстрілу", "дата_нападу", "дата_інциденту",
                          "дата_события", "дата_обстрела", "дата_нападения", "дата_инцидента"),
                         ("дата", "date", "день")),
    "time": Names(("time", "time_local", "local_time", "час", "время"), ("час", "время", "time", "годин")),
    "latitude": Names(("lat", "latitude", "y", "lat_dd", "lat_deg", "широта"), ("широт", "latitude", "lat")),
    "longitude": Names(("lon", "lng", "long", "longitude", "x", "lon_dd", "lon_deg", "lng_deg", "довгота", "долгота"),
                       ("довгот", "долгот", "longitude", "lon", "lng")),
    # one cell holding both ("50.45, 30.52"); used only when there are no latitude/longitude columns
    "coordinates": Names(("coordinates", "coordinate", "coords", "coord", "latlon", "latlong", "latlng", "lat_lon",
                          "lat_long", "lat_lng", "lat,lon", "lat,_lon", "lat,long", "lat,_long", "lat,lng", "lat,_lng",
                          "lat/lon", "lat/long", "lat/lng", "lat;lon", "lat;_lon", "latitude,_longitude",
                          "latitude/longitude", "gps", "gps_coordinates", "geo_coordinates", "координати",
                          "координаты", "gps_координати", "gps_координаты")),
    "source_url": Names(("source_url", "url", "link", "links", "source_link", "посилання", "ссылка", "ссылки"),
                        ("url", "посилан", "ссылк", "link", "http")),
    "location": Names(("location", "place", "settlement", "city", "town", "locality", "place_name",
                       "населений_пункт", "населенный_пункт", "місце", "место", "нп"),
                      ("населен", "пункт", "місто", "город", "село", "місце", "место", "адрес", "location",
                       "place", "settlement", "city", "town", "locality")),
    "admin1": Names(("admin1", "oblast", "region", "province", "область", "регіон", "регион"),
                    ("област", "oblast", "регіон", "регион", "region", "province")),
    "geo_precision": Names(("geo_precision", "geo_precis", "location_precision", "precision", "точність",
                            "точность"),
                           ("точніст", "точност", "precision", "accuracy")),
    "munition": Names(("munition", "munitions", "weapon", "weapons", "weapon_type", "weapon_used", "weapon_system",
                       "type_of_weapon", "munition_type", "type", "missile", "missile_type", "drone_type",
                       "weapon_name", "боєприпас", "боєприпаси", "боеприпас", "боеприпасы", "засіб_ураження",
                       "засоби_ураження", "средство_поражения", "зброя", "тип_зброї", "вид_зброї", "тип",
                       "озброєння", "тип_озброєння", "оружие", "тип_оружия", "вид_оружия", "засіб", "засоби",
                       "средство", "ракета", "тип_ракети", "тип_ракеты"),
                      ("боєприпас", "боеприпас", "засіб", "засоб", "збро", "озброєн", "оружи", "ракет", "дрон",
                       "бпла", "munition", "weapon", "missile")),
    "outcome": Names(("outcome", "result", "results", "status", "attack_result", "result_of_attack", "результат",
                      "наслідок", "результат_атаки", "результат_удару", "результат_удара", "итог", "исход"),
                     ("результат", "наслід", "последств", "outcome", "result", "status", "статус")),
    "killed": Names(("killed", "deaths", "dead", "fatalities", "killed_n", "number_killed", "people_killed",
                     "civilians_killed", "death_toll", "загинули", "загинуло", "загиблі", "загиблих",
                     "кількість_загиблих", "вбито", "погибли", "погибло", "погибшие", "погибших", "число_погибших",
                     "убито"),
                    ("загин", "загибл", "погиб", "вбит", "убит", "killed", "dead", "death", "fatalit")),
    "injured": Names(("injured", "wounded", "injuries", "injured_n", "number_injured", "people_injured",
                      "civilians_injured", "hurt", "поранені", "поранено", "поранених", "кількість_поранених",
                      "постраждалі", "постраждали", "ранены", "раненые", "раненых", "ранено", "число_раненых",
                      "пострадавшие", "пострадали"),
                     ("поранен", "ранен", "постражд", "пострад", "injur", "wound")),
    "source": Names(("source", "sources", "джерело", "источник"), ("джерел", "источник", "source")),
    "notes": Names(("notes", "note", "description", "comment", "comments", "details", "примітки",
                    "примечания", "опис", "описание"),
                   ("примітк", "примечан", "коментар", "комментар", "опис", "note", "comment", "descript")),
    "wkt": Names(("wkt", "geometry", "the_geom", "geom", "wkt_geom")),
    "time_precision": Names(("time_precision", "time_preci")),
    "munition_class": Names(("munition_class", "munition_c", "weapon_class", "class")),
}
# (Shapefile field names are cut to 10 characters: occurred_a, time_preci, geo_precis, munition_c.)
_LOOKUP = {name: target for target, names in NAMES.items() for name in names.exact}
_COORDS = ("latitude", "longitude", "coordinates", "wkt")


def _listed(names: Sequence[object], limit: int = 40) -> str:
    shown = [" ".join(str(n).split()) for n in list(names)[:limit]]
    return ", ".join(shown) + (f", ... ({len(names)} columns)" if len(names) > limit else "")


def header_key(name: str) -> str:
    """A header as compared with the usual names."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().casefold())


def _loose_key(name: str) -> str:
    """A header without what often decorates it: a unit or note in brackets, a trailing mark or
    count sign ("Lat.", "Latitude (WGS84)", "Killed, n", "Загинули, осіб", "Дата:")."""
    key = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", str(name).strip().casefold())
    key = re.sub(r",\s*(?:n|no|#|осіб|чел|людей|people|persons)\.?$", "", key)
    return header_key(key.strip(" .:;,*#№")).strip("_")


def usual_target(name: str) -> str | None:
    """The canonical column a header's usual name stands for (None when it is not a usual name)."""
    return _LOOKUP.get(header_key(name)) or _LOOKUP.get(_loose_key(name))


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
    # a header spelled exactly like a canonical name wins over a usual name ("event_id" over "id"),
    # and a usual name over one found once its brackets and marks are set aside ("id" over "ID (old)")
    exact_first = sorted(present, key=lambda h: 0 if header_key(h) in TARGETS else 1 if header_key(h) in _LOOKUP else 2)
    for header in exact_first:
        if header in mapping:
            continue
        target = usual_target(header)
        if target is None or target in taken or (not coordinates and target in _COORDS):
            continue
        mapping[header] = target
        taken.add(target)
    if {"latitude", "longitude", "coordinates"} <= taken:
        # separate columns win; the combined one, unless asked for, stays an extra column
        for header, target in list(mapping.items()):
            if target == "coordinates" and header not in wanted:
                del mapping[header]
    if "time" in taken and "occurred_at" not in taken:
        # a lone "time" column holds the whole date and time
        for header, target in mapping.items():
            if target == "time":
                mapping[header] = "occurred_at"
    return mapping


class MissingColumnsError(DataError):
    """The columns that place an event in time and space were not found among the headers.

    ``missing`` holds the canonical names not found (``latitude``, ``longitude``,
    ``occurred_at``); ``headers`` the file's own. A column mapping (``columns=``) fixes it.
    """

    def __init__(self, message: str, missing: Sequence[str] = (), headers: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing: tuple[str, ...] = tuple(missing)
        self.headers: tuple[str, ...] = tuple(headers)


def require(mapping: Mapping[str, str], headers: Sequence[str], *, path: str, coordinates: bool = True) -> None:
    """Raise MissingColumnsError when the columns needed to place an event in time and space are absent."""
    targets = set(mapping.values())
    missing: list[str] = []
    # a place-name column alone will do: its rows are placed from the offline gazetteer (and said so)
    if coordinates and not {"latitude", "longitude"} <= targets and not {"wkt", "coordinates", "location"} & targets:
        missing = [t for t in ("latitude", "longitude") if t not in targets]
    if "occurred_at" not in targets:
        missing.append("occurred_at")
    if not missing:
        return
    looked = []
    if "latitude" in missing or "longitude" in missing:
        coords = [t for t in missing if t != "occurred_at"]
        looked.append(f"no {' or '.join(coords)} column found (looked for lat/latitude/y/широта "
                      "and lon/lng/long/longitude/x/довгота/долгота, or one coordinates/latlon/координати column, "
                      "or a place-name column)")
    if "occurred_at" in missing:
        looked.append("no date column found (looked for date/datetime/occurred_at/event_date/дата)")
    raise MissingColumnsError(
        f"{path}: {'; '.join(looked)}; the file's columns: {_listed(headers)}; "
        "map them with File > Open with column mapping (in Python: read_incidents(..., columns=...))",
        missing, [str(h) for h in headers],
    )
