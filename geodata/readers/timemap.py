"""Bellingcat / Forensic Architecture TimeMap exports.

Two shapes are read:

* the flat API export: one JSON array of events ``{id, date "MM/DD/YYYY",
  latitude, longitude (strings), location, description, sources[{id, path,
  description}], filters[{key, value}]}``;
* the native three-file export: an events file ``{id, date, time, location,
  latitude, longitude, description, graphic, associations[ids], sources[ids]}``
  plus an associations file ``[{id, title, mode, filter_paths}]`` and a sources
  file (keyed by id: ``{title, paths, type, url, date}``) next to it. The siblings
  are found by replacing "events" in the file name ("ua_events.json" ->
  "ua_associations.json", "ua_sources.json"), else as "associations.json" and
  "sources.json" in the same folder, or given as options.

Mapping: the "Weapon System" filter gives ``munition_class`` where it names one
(cruise/ballistic missile, loitering munition, rocket artillery); cluster
munitions, air strike and unknown give "unknown" with the text kept. Every filter
(weapon system included) becomes a ``tag_<key>`` text column, several values
joined with " | ". Source URLs go to ``source_url`` (" | "-joined), the graphic
flag to a nullable boolean ``graphic`` column. TimeMap collections record where
civilian harm happened, so ``outcome`` is "impact" (option ``outcome``).
TimeMap names no munition model, so ``munition`` is unknown; the load report says
so in TimeMap's terms (the class read from the Weapon System filter, or why not).
Row numbers: the first event of the array is row 1.

Opening the associations or the sources file instead of the events file gives a
one-line error naming the file to open.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from geodata.errors import DataError
from geodata.readers import coordinates, register
from geodata.readers.common import finish
from geodata.readers.files import check_file
from geodata.readers.textfile import cell_text
from geodata.report import LoadReport, Problem

NAME = "timemap"

#: "Weapon System" filter values that say which class a munition is.
WEAPON_CLASSES: dict[str, str] = {
    "cruise missile": "cruise missile",
    "cruise missiles": "cruise missile",
    "ballistic missile": "ballistic missile",
    "ballistic missiles": "ballistic missile",
    "loitering munition": "loitering munition",
    "loitering munitions": "loitering munition",
    "he rocket artillery": "rocket artillery",
    "rocket artillery": "rocket artillery",
}
#: Values that name no class: "unknown", text kept in the tag column, no warning.
WEAPON_UNCLASSED = {"cluster munitions", "cluster munition", "air strike", "airstrike", "unknown", ""}
WEAPON_KEY = "weapon system"


def sniff(path: str | Path, head: bytes) -> bool:
    """True for a TimeMap events file (flat or native) or one of its sibling files."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"["):
        return _looks_like_sources(head)  # the sources file may be an object keyed by id
    keys = {k for k in (b"latitude", b"date", b"filters", b"associations", b"sources", b"filter_paths")
            if b'"' + k + b'"' in head}
    if {b"latitude", b"date"} <= keys and keys & {b"filters", b"associations", b"sources"}:
        return True
    return b"filter_paths" in keys or _looks_like_sources(head)  # a sibling opened by mistake: read() says so


def _looks_like_sources(head: bytes) -> bool:
    """A TimeMap sources file (an object or array of {title, paths, type, url ...}), not events."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith((b"{", b"[")) or b'"latitude"' in head or b'"features"' in head:
        return False
    return b'"paths"' in head and b'"title"' in head


def read(path: str | Path, **options: Any):
    """Read a TimeMap export into a checked canonical frame (LoadResult)."""
    raw, report, rejected = parse(path, **options)
    # TimeMap writes MM/DD/YYYY: month first when the dates themselves cannot tell
    result = finish(raw, raw.index, None, report, path=Path(path), labels={"occurred_at": "date"},
                    rejected=rejected, default_dayfirst=False, **options)
    _word_munition_note(result.report, raw)
    return result


def _word_munition_note(report: LoadReport, raw: pd.DataFrame) -> None:
    """Say in TimeMap's terms why munitions are unknown (the generic note speaks of a missing column)."""
    if "tag_weapon_system" not in raw.columns or raw["tag_weapon_system"].isna().all():
        text = ("TimeMap names no munition model and no Weapon System filter was read (see the associations "
                "file note, if any): munitions and classes are unknown")
    elif (raw["munition_class"] != "unknown").any():
        text = ("TimeMap names no munition model: munitions are unknown; the class comes from the Weapon System "
                "filter (its text is kept in tag_weapon_system)")
    else:
        text = ("TimeMap names no munition model and its Weapon System values name no class: munitions and "
                "classes are unknown (the text is kept in tag_weapon_system)")
    report.problems = [Problem(p.row, p.column, text, p.severity)
                       if p.row is None and p.column == "munition" and p.message.startswith("no munition column")
                       else p for p in report.problems]


def parse(
    path: str | Path,
    *,
    associations: str | Path | None = None,
    sources: str | Path | None = None,
    outcome: str = "impact",
    geocode: bool = True,
    **_ignored: Any,
) -> tuple[pd.DataFrame, LoadReport, set[int]]:
    """The raw layer: every event as one row (index = row number), problems, rejected rows.

    Dates and times stay as written: :func:`read` has them read by the shared checks
    (month first when the data cannot tell the order, as TimeMap writes MM/DD/YYYY).
    ``geocode`` places events without coordinates at their named location through the
    offline gazetteer (reported per row, with the place's precision).
    """
    path = Path(path)
    events = _load_json(path)
    items = list(events.values()) if isinstance(events, dict) else events
    if isinstance(items, list) and items and all(isinstance(e, dict) and "latitude" not in e for e in items):
        if all("filter_paths" in e for e in items):
            raise DataError(f"{path}: this is a TimeMap associations file; open the events file next to it")
        if all({"paths", "url"} & set(e) and "title" in e for e in items):
            raise DataError(f"{path}: this is a TimeMap sources file; open the events file next to it")
    if not isinstance(events, list):
        raise DataError(f"{path}: not a TimeMap export (expected a JSON array of events)")
    report = LoadReport(path=str(path), format=NAME)
    native = any(isinstance(e, dict) and "associations" in e for e in events)
    assoc_by_id: dict[str, dict] | None = None
    source_by_id: dict[str, dict] | None = None
    if native:
        assoc_by_id = _load_siblings(path, "associations", associations, report, _index_associations)
        source_by_id = _load_siblings(path, "sources", sources, report, _index_sources)

    rows = list(range(1, len(events) + 1))
    records: list[dict[str, Any]] = []
    for row, event in zip(rows, events):
        if not isinstance(event, dict):
            records.append({})
            continue
        records.append(_record(event, row, path.stem, assoc_by_id, source_by_id, report))
    raw = pd.DataFrame.from_records(records, index=pd.Index(rows, name="row"))
    rejected: set[int] = {row for row, e in zip(rows, events) if not isinstance(e, dict)}
    for row in sorted(rejected):
        report.add(row, None, "event is not a JSON object")
    if "event_id" not in raw.columns:  # no event objects at all
        raw["event_id"] = [f"{path.stem}-{r}" for r in rows]

    # Events that are not objects were reported above; the rest are checked here.
    checked = [r for r in rows if r not in rejected]
    sub = raw.loc[checked]
    cell = lambda name: [sub[name].get(r) if name in sub.columns else None for r in checked]  # noqa: E731
    lat, lon, bad_point, placed = coordinates.parse_point(
        cell("_lat"), cell("_lon"), checked, report, places=cell("location") if geocode else None)
    bad_region = coordinates.check_region(lat, lon, checked, report)
    rejected |= bad_point | bad_region

    raw = raw.drop(columns=[c for c in ("_lat", "_lon") if c in raw.columns])
    raw = raw.rename(columns={"_date": "occurred_at", "_time": "time"})
    raw["latitude"] = pd.Series(lat, index=checked, dtype="float64").reindex(raw.index)
    raw["longitude"] = pd.Series(lon, index=checked, dtype="float64").reindex(raw.index)
    if placed:
        coordinates.apply_places(raw, placed)
    raw["outcome"] = outcome
    tags = sorted(c for c in raw.columns if c.startswith("tag_"))
    front = ["event_id", "occurred_at", "time", "latitude", "longitude", "location",
             "munition", "munition_class", "outcome", "source", "source_url", "notes", "graphic"]
    front = [c for c in front if c in raw.columns]
    raw = raw[front + tags + [c for c in raw.columns if c not in front and c not in tags]]
    if "graphic" in raw.columns:
        raw["graphic"] = raw["graphic"].astype("boolean")
    return raw, report, rejected


def _load_json(path: Path) -> Any:
    check_file(path)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc.__class__.__name__}: {exc})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def sibling_path(events_path: Path, kind: str) -> Path:
    """Where the ``kind`` ("associations" or "sources") file of an events file is expected."""
    name = events_path.name
    at = name.lower().rfind("events")
    if at >= 0:
        return events_path.with_name(name[:at] + kind + name[at + len("events"):])
    return events_path.with_name(f"{kind}.json")


def _load_siblings(events_path: Path, kind: str, given, report: LoadReport, index) -> dict[str, dict] | None:
    candidate = Path(given) if given else sibling_path(events_path, kind)
    if not candidate.exists() and not given:
        fallback = events_path.with_name(f"{kind}.json")
        candidate = fallback if fallback.exists() else candidate
    if not candidate.exists():
        what = "filters and narratives" if kind == "associations" else "source titles and URLs"
        report.add(None, kind, f"{kind} file '{candidate.name}' not found next to the events file; "
                   f"{what} are not loaded (the ids are kept in the '{kind[:-1]}_ids' column)", "warning")
        return None
    try:
        data = _load_json(candidate)
        return index(data)
    except DataError as exc:
        report.add(None, kind, f"{kind} file unusable: {exc}; the ids are kept", "warning")
        return None


def _index_associations(data: Any) -> dict[str, dict]:
    items = data.values() if isinstance(data, dict) else data
    return {str(a.get("id")): a for a in items if isinstance(a, dict)}


def _index_sources(data: Any) -> dict[str, dict]:
    if isinstance(data, dict):
        return {str(k): v for k, v in data.items() if isinstance(v, dict)}
    return {str(s.get("id")): s for s in data if isinstance(s, dict)}


def _tag_column(key: str) -> str:
    return "tag_" + (re.sub(r"[^0-9a-z]+", "_", key.strip().lower()).strip("_") or "filter")


def _join(values: list[str]) -> str | None:
    seen = list(dict.fromkeys(v for v in values if v))
    return " | ".join(seen) if seen else None


def _record(event: dict, row: int, stem: str, assoc_by_id, source_by_id, report: LoadReport) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "event_id": cell_text(event.get("id")) or f"{stem}-{row}",
        "_date": cell_text(event.get("date")),
        "_time": cell_text(event.get("time")),
        "_lat": event.get("latitude"),
        "_lon": event.get("longitude"),
        "location": cell_text(event.get("location")) or None,
        "notes": cell_text(event.get("description")) or None,
    }
    filters: list[tuple[str, str]] = []
    for f in event.get("filters") or []:
        if isinstance(f, dict):
            filters.append((cell_text(f.get("key")), cell_text(f.get("value"))))
    narratives: list[str] = []
    assoc_ids: list[str] = []
    for a in event.get("associations") or []:
        assoc = a if isinstance(a, dict) else (assoc_by_id or {}).get(str(a))
        if assoc is None:
            assoc_ids.append(str(a))
            if assoc_by_id is not None:
                report.add(row, "associations", f"association '{a}' is not in the associations file", "warning")
            continue
        mode = cell_text(assoc.get("mode")).upper()
        paths = [cell_text(p) for p in assoc.get("filter_paths") or [] if cell_text(p)]
        if mode in ("FILTER", "") and paths:
            filters.append((paths[0], " / ".join(paths[1:]) if len(paths) > 1 else paths[0]))
        else:
            narratives.append(cell_text(assoc.get("title")) or cell_text(assoc.get("id")))
    if assoc_ids:
        rec["association_ids"] = " | ".join(assoc_ids)
    if narratives:
        rec["narrative"] = _join(narratives)

    tags: dict[str, list[str]] = {}
    for key, value in filters:
        if key:
            tags.setdefault(_tag_column(key), []).append(value)
    for column, values in tags.items():
        rec[column] = _join(values)
    weapons = [v for k, v in filters if k.strip().lower() == WEAPON_KEY]
    rec["munition_class"] = _weapon_class(weapons, row, report)

    urls: list[str] = []
    titles: list[str] = []
    source_ids: list[str] = []
    for s in event.get("sources") or []:
        if isinstance(s, dict):  # flat export: the source inline
            urls.append(cell_text(s.get("path")) or cell_text(s.get("url")))
            titles.append(cell_text(s.get("description")) or cell_text(s.get("title")))
            continue
        if isinstance(s, str) and s.startswith(("http://", "https://")):
            urls.append(s)
            continue
        found = (source_by_id or {}).get(str(s))
        if found is None:
            source_ids.append(str(s))
            if source_by_id is not None:
                report.add(row, "sources", f"source '{s}' is not in the sources file", "warning")
            continue
        urls.append(cell_text(found.get("url")))
        urls += [cell_text(p) for p in found.get("paths") or []
                 if cell_text(p).startswith(("http://", "https://"))]
        titles.append(cell_text(found.get("title")))
    rec["source_url"] = _join(urls)
    rec["source"] = _join(titles)
    if source_ids:
        rec["source_ids"] = " | ".join(source_ids)
    if "graphic" in event:
        rec["graphic"] = _flag(event.get("graphic"))
    return rec


def _weapon_class(weapons: list[str], row: int, report: LoadReport) -> str:
    classes: set[str] = set()
    for weapon in weapons:
        key = weapon.strip().lower()
        if key in WEAPON_CLASSES:
            classes.add(WEAPON_CLASSES[key])
        elif key not in WEAPON_UNCLASSED:
            report.add(row, "tag_weapon_system", f"weapon system '{weapon}' names no munition class; "
                       "class unknown, text kept", "warning")
    if len(classes) == 1:
        return classes.pop()
    if len(classes) > 1:
        report.add(row, "tag_weapon_system", "several weapon systems of different classes ("
                   + ", ".join(sorted(classes)) + "); class unknown, text kept", "warning")
    return "unknown"


def _flag(value: object):
    if isinstance(value, bool):
        return value
    word = cell_text(value).lower()
    if word in ("true", "yes", "1", "y"):
        return True
    if word in ("false", "no", "0", "n"):
        return False
    return pd.NA


def _register() -> None:
    register(NAME, sniff, read)


_register()
