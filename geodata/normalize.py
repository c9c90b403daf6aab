"""Check every row of a raw table and build the canonical frame (shared by every reader).

Vectorised over columns; Python loops run only over distinct values (munition and
outcome spellings) and over the rows that have a problem.
"""
from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from geopandas.array import GeometryArray

from geodata.gazetteer import resolve_parts
from geodata.munitions import class_word, find_munitions, not_a_munition, resolve_munition
from geodata.points import LAT, LON
from geodata.report import LoadReport, Problem
from geodata.schema import (
    DEFAULT_TZ,
    GEO_PRECISION_DTYPE,
    GEO_PRECISIONS,
    MUNITION_CLASS_DTYPE,
    MUNITION_CLASSES,
    OUTCOME_DTYPE,
    OUTCOMES,
    TIME_PRECISION_DTYPE,
    TIME_PRECISIONS,
)
from geodata.timeparse import check_times, is_clean_text

#: Columns build_frame understands besides the canonical ones ("coordinates": one cell
#: holding "latitude, longitude", used when there are no latitude/longitude columns).
COORDINATE_COLUMNS = ("latitude", "longitude", "coordinates")

#: Ukraine and its neighbours (west Russia up to Moscow, Belarus, Moldova, the Black Sea):
#: a point far outside this box cannot be a strike these files record.
REGION_BBOX: tuple[float, float, float, float] = (17.0, 40.0, 50.0, 58.0)  # west, south, east, north

#: The same box as (south, west, north, east): where points are expected. A latitude/longitude
#: pair is only ever swapped when that brings it into this box, never out of it.
THEATRE: tuple[float, float, float, float] = (REGION_BBOX[1], REGION_BBOX[0], REGION_BBOX[3], REGION_BBOX[2])
# Fewer points than this say too little about where the rest of a file lies.
_MIN_ROWS_FOR_AREA = 5

# Whole values naming an outcome (English, Ukrainian, Russian), compared after _outcome_key.
_OUTCOME_WORDS: dict[str, tuple[str, ...]] = {
    "impact": (
        "impact", "impacted", "hit", "hits", "struck", "strike", "direct hit", "landed", "arrival",
        "влучання", "влучання ракети", "влучено", "влучила", "попадання", "приліт", "приліт ракети",
        "попадание", "прилет",
    ),
    "intercepted": (
        "intercepted", "interception", "shot down", "shotdown", "downed", "destroyed", "neutralised",
        "neutralized", "збито", "збитий", "збита", "збиті", "знищено", "знищений", "знищена", "знищені",
        "перехоплено", "перехоплений", "сбит", "сбито", "сбиты", "уничтожен", "уничтожено", "перехвачен",
        "перехвачено",
    ),
    "deviated": (
        "deviated", "deviation", "exploded in the air", "exploded in air", "exploded mid-air", "air burst",
        "airburst", "lost", "locally lost", "location lost", "lost locally", "missed", "miss", "fell short",
        "suppressed", "suppressed by ew", "jammed", "локаційно втрачено", "локаційно втрачені",
        "локаційно втрачений", "втрачено", "подавлено", "подавлено реб", "відхилилася",
        "вибухнула в повітрі", "локационно потерян",
    ),
    "debris": (
        "debris", "fragments", "fragment", "wreckage", "falling debris", "debris fall", "уламки",
        "падіння уламків", "уламки ракети", "уламки бпла", "обломки", "падение обломков",
    ),
    "unknown": ("unknown", "unk", "n/a", "na", "none", "unclear", "невідомо", "неизвестно"),
}


def _outcome_key(text: str) -> str:
    return re.sub(r"[\s_\-/.,;:!]+", " ", text.casefold()).strip()


_OUTCOME_EXACT = {_outcome_key(w): outcome for outcome, words in _OUTCOME_WORDS.items() for w in words}
# Phrases searched inside longer text, most specific first: "debris of a shot-down drone" is debris.
# A trailing "*" stands for any word ending. Each list becomes a Python pattern (one value) and
# an Arrow/RE2 pattern (a whole column at once).
_OUTCOME_PHRASES: list[tuple[str, tuple[str, ...]]] = [
    ("debris", ("debris", "fragment", "fragments", "wreckage", "уламк*", "обломк*")),
    ("deviated", ("deviat*", "exploded in air", "exploded in the air", "exploded mid air",
                  "exploded mid-air", "exploded midair", "locally lost", "lost", "локаційно втрачен*",
                  "подавлен*")),
    ("intercepted", ("intercept*", "shot down", "downed", "збит*", "знищен*", "перехоплен*", "сбит*")),
    ("impact", ("impact*", "hit", "hits", "struck", "влучан*", "влучил*", "попадан*", "приліт*", "прилет*")),
]


def _phrase_pattern(phrases: tuple[str, ...], *, re2: bool) -> str:
    word_end = r"\pL*" if re2 else r"\w*"
    body = "|".join(re.escape(p.rstrip("*")).replace(r"\ ", " ") + (word_end if p.endswith("*") else "")
                    for p in phrases)
    if re2:  # RE2's \b knows only ASCII letters: spell the boundary out
        return rf"(?:^|[^\pL\pN_])(?:{body})(?:$|[^\pL\pN_])"
    return rf"\b(?:{body})\b"


_OUTCOME_SEARCH = [(o, re.compile(_phrase_pattern(p, re2=False))) for o, p in _OUTCOME_PHRASES]
_OUTCOME_SEARCH_RE2 = [(o, _phrase_pattern(p, re2=True)) for o, p in _OUTCOME_PHRASES]
_NEGATION = re.compile(r"\b(not|no|never|не|ні|без)\b")

# A failed or negated interception ("not intercepted", "failed to intercept", "could not be shot
# down", "не збито", "interception attempt"): a word saying it did not happen or did not succeed,
# then within two words of the same clause a word for intercepting, or the other way round. Such
# text never counts as intercepted (interception rates must not be inflated).
_INTERCEPT_WORDS = ("intercept*", "shot down", "shoot down", "shooting down", "downed", "destroyed", "збит*",
                    "збив*", "перехоп*", "знищ*", "сбит*", "сбив*", "перехват*", "уничтож*")
_FAIL_BEFORE = ("not", "no", "never", "without", "fail*", "unable", "cannot", "can't", "couldn't", "didn't",
                "wasn't", "weren't", "isn't", "won't", "unsuccessful*", "evad*", "avoid*", "escap*", "attempt*",
                "tried", "try", "trying", "не", "ні", "без", "невдал*", "спроб*", "уник*", "попыт*",
                "безуспешн*", "неудач*", "избеж*")
_FAIL_AFTER = ("attempt*", "fail*", "unsuccessful*", "спроб*", "невдал*", "попыт*", "неудач*", "безуспешн*")


def _alternatives(phrases: tuple[str, ...], word_end: str) -> str:
    return "|".join(re.escape(p.rstrip("*")).replace(r"\ ", " ") + (word_end if p.endswith("*") else "")
                    for p in phrases)


def _failed_pattern(*, re2: bool) -> str:
    word_end = r"\pL*" if re2 else r"\w*"
    gap = r"(?:\s+[^\s,;.:!?()]+){0,2}\s+"  # up to two other words, never across a comma or stop
    before, verb, after = (_alternatives(w, word_end) for w in (_FAIL_BEFORE, _INTERCEPT_WORDS, _FAIL_AFTER))
    body = rf"(?:{before}){gap}(?:{verb})|(?:{verb}){gap}(?:{after})"
    if re2:
        return rf"(?:^|[^\pL\pN_'])(?:{body})(?:$|[^\pL\pN_'])"
    return rf"(?<![\w'])(?:{body})(?![\w'])"


_FAILED = re.compile(_failed_pattern(re2=False))
_FAILED_RE2 = _failed_pattern(re2=True)

_PRECISION_WORDS = {
    "exact": "exact", "precise": "exact", "point": "exact", "coordinates": "exact",
    "geolocated": "exact", "точно": "exact", "settlement": "settlement", "city": "settlement",
    "town": "settlement", "village": "settlement", "locality": "settlement", "approximate": "settlement",
    "населений пункт": "settlement", "region": "region", "oblast": "region", "province": "region",
    "admin1": "region", "district": "region", "raion": "region", "область": "region", "регіон": "region",
}


def _clause_key(text: str) -> str:
    """Text compared with the failed-interception pattern: like _outcome_key, but commas and
    stops are kept, since a negation does not reach across them."""
    return re.sub(r"[\s_\-/]+", " ", text.casefold().replace("\u2019", "'")).strip()


def read_outcome(text: object) -> tuple[str | None, str]:
    """The canonical outcome a value names and how it was read.

    ``how`` is "exact" (an outcome word or known synonym), "phrase" (a phrase found inside
    longer text), "failed" (a failed or negated interception: impact when the text also
    clearly says it hit, else unknown; never intercepted), "several" (names more than one
    outcome) or "none" (names none). The outcome is None for "several" and "none".
    """
    if not isinstance(text, str):
        return "unknown", "exact"
    key = _outcome_key(text)
    if not key:
        return "unknown", "exact"
    if key in _OUTCOME_EXACT:
        return _OUTCOME_EXACT[key], "exact"
    clause = _clause_key(text)
    failed = bool(_FAILED.search(clause))
    rest = _outcome_key(_FAILED.sub(" ; ", clause)) if failed else key
    if _NEGATION.search(rest):  # any other negation: not a statement that can be mapped safely
        return ("unknown", "failed") if failed else (None, "none")
    named = [o for o, pattern in _OUTCOME_SEARCH if pattern.search(rest)]
    if failed:
        return ("impact" if named == ["impact"] else "unknown"), "failed"
    if "debris" in named:  # "debris of a shot-down drone" is debris
        return "debris", "phrase"
    if len(named) > 1:
        return None, "several"
    return (named[0], "phrase") if named else (None, "none")


def outcome_of(text: object) -> str | None:
    """The canonical outcome a piece of text names, or None when it names none (or several)."""
    return read_outcome(text)[0]


def _arrow_text(values: pd.Series, *, chunked: bool = False) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow text: surrounding spaces removed, blanks as null (``chunked``: the
    chunks as read may stay apart, which saves a copy of every string)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        dictionary, codes = _clean_categories(values)
        return pc.take(dictionary, codes)
    if values.dtype != "str":
        present = values.notna()
        values = values.astype("str").where(present)
    arr = pa.array(values.array)
    if is_clean_text(arr):  # usual for a text file: Arrow's reader made blanks null already
        return arr if chunked or not isinstance(arr, pa.ChunkedArray) else arr.combine_chunks()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def _clean_categories(values: pd.Series) -> tuple[pa.Array, pa.Array]:
    """A categorical column (repeated text read as a dictionary) as its cleaned distinct values
    and each row's index into them (null where missing): the cleaning runs once per distinct value."""
    cat = values.array
    dictionary = _arrow_text(pd.Series(cat.categories.astype("str"), dtype="str"))
    codes = np.asarray(cat.codes)
    return dictionary, pa.array(codes, mask=codes < 0)


def outcomes_named_column(values: pd.Series) -> dict[str, np.ndarray]:
    """For each outcome, which rows' free text (e.g. notes) mentions it; under "failed", which
    rows say an interception failed or did not happen ("Kh-22 not intercepted"). Those words
    are taken out before the outcomes are looked for, so they never count as intercepted."""
    arr = pc.utf8_lower(_arrow_text(values))
    # "shot-down" reads as "shot down", "couldn’t" as "couldn't"
    arr = pc.replace_substring(pc.replace_substring_regex(arr, r"[\s_\-/]+", " "), "\u2019", "'")
    failed = pc.match_substring_regex(arr, _FAILED_RE2).fill_null(False)
    if pc.any(failed).as_py():
        arr = pc.replace_substring_regex(arr, _FAILED_RE2, " ; ")
    named = {o: pc.match_substring_regex(arr, pattern).fill_null(False).to_numpy(zero_copy_only=False)
             for o, pattern in _OUTCOME_SEARCH_RE2}
    named["failed"] = failed.to_numpy(zero_copy_only=False)
    return named


def outcome_words(text: str, outcome: str) -> str:
    """The words of ``text`` that name ``outcome`` ("failed": a failed interception), for
    messages; '' when none do."""
    key = _clause_key(text)
    failed = _FAILED.search(key)
    if outcome == "failed":
        return failed.group(0).strip() if failed else ""
    if failed:
        key = _FAILED.sub(" ; ", key)
    pattern = dict(_OUTCOME_SEARCH).get(outcome)
    found = pattern.search(_outcome_key(key)) if pattern else None
    return found.group(0).strip() if found else ""


def _strip(values: pd.Series) -> pd.Series:
    """Text with surrounding spaces removed and blanks as missing (pandas ``str`` dtype)."""
    return _arrow_text(values, chunked=True).to_pandas()


def _codes(values: pd.Series, lower: bool = False) -> tuple[np.ndarray, list[str]]:
    """Distinct cleaned values and each row's index into them (-1 where blank)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        # distinct values are already known: clean them, then merge those that now read the same
        dictionary, row_codes = _clean_categories(values)
        if lower:
            dictionary = pc.utf8_lower(dictionary)
        encoded = pc.dictionary_encode(dictionary)
        merged = np.append(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), -1).astype(np.int64)
        return merged[pc.fill_null(row_codes, -1).to_numpy(zero_copy_only=False)], encoded.dictionary.to_pylist()
    arr = _arrow_text(values)
    if lower:
        arr = pc.utf8_lower(arr)
    encoded = pc.dictionary_encode(arr)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_pylist()


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Floats from a column (decimal comma accepted) and where a value is not a number."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        out = np.array(values.astype("float64").to_numpy(na_value=np.nan), dtype=np.float64)  # writable copy
        return out, np.zeros(len(out), bool)
    arr = _arrow_text(values)
    # decimal commas (Ukrainian spreadsheets) and a trailing degree sign are common in coordinates
    arr = pc.utf8_trim_whitespace(pc.replace_substring(pc.replace_substring(arr, ",", "."), "°", ""))
    try:  # Arrow's parser first: fast, and enough when every value is a number
        out = np.array(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        return out, np.zeros(len(out), bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = arr.to_pandas()
    out = pd.to_numeric(text, errors="coerce").astype("float64")
    out = np.array(out.to_numpy(na_value=np.nan), dtype=np.float64)
    return out, text.notna().to_numpy() & np.isnan(out)


def _shown(values: pd.Series, where: np.ndarray) -> list[str]:
    """The values at ``where`` as the file wrote them (for messages; only flagged rows)."""
    return [str(v).strip() for v in values.iloc[np.flatnonzero(where) if where.dtype == bool else where]]


def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


class _Checker:
    """Collects problems and rejections for one table."""

    def __init__(self, rows: np.ndarray, labels: Mapping[str, str]):
        self.rows = rows
        self.labels = labels
        self.reject = np.zeros(len(rows), bool)
        self.problems: list[Problem] = []

    def label(self, column: str) -> str:
        return self.labels.get(column, column)

    def flag(self, where: np.ndarray, column: str, messages: Iterable[str] | str, severity: str = "error") -> None:
        positions = np.flatnonzero(where) if where.dtype == bool else where
        if not len(positions):
            return
        if isinstance(messages, str):
            messages = [messages] * len(positions)
        col = self.label(column)
        rows = self.rows[positions].tolist()
        self.problems.extend(Problem(r, col, m, severity) for r, m in zip(rows, messages))
        if severity == "error":
            self.reject[positions] = True

    def note(self, column: str | None, message: str) -> None:
        self.problems.append(Problem(None, self.label(column) if column else None, message, "warning"))


def build_frame(
    raw: pd.DataFrame,
    report: LoadReport,
    *,
    rows: Iterable[int] | np.ndarray,
    tz: str = DEFAULT_TZ,
    dayfirst: bool | None = None,
    default_dayfirst: bool = True,
    id_prefix: str | None = None,
    labels: Mapping[str, str] | None = None,
    region: tuple[float, float, float, float] | None = None,
    geocode: bool = True,
    geometry: bool = True,
) -> pd.DataFrame:
    """Check every row of ``raw`` and return the canonical frame of the rows kept.

    ``raw`` has canonical column names (text or typed values), ``latitude`` and
    ``longitude`` (or a ``geometry`` column of points in EPSG:4326), optionally a ``time``
    column completing the date, and any extra columns, which are kept after the canonical
    ones. ``dayfirst`` forces the day/month order of dates; ``default_dayfirst`` is the order
    when the data cannot tell. ``rows`` gives each record's row
    number in the file (used in messages and as the frame's index). ``labels`` maps
    canonical names to the file's own headers, so messages name the user's columns.
    ``id_prefix`` (normally the file stem) builds event ids where the file has none.
    ``region`` (south, west, north, east) is where points are expected when deciding
    whether a pair was swapped (default :data:`THEATRE`). With ``geocode`` a row with no
    coordinates is placed at the place its ``location`` (and ``admin1``) names when the
    offline gazetteer knows exactly one (settlement or region precision, said per row).
    ``geometry=False``: the places as ``latitude``/``longitude`` float columns where ``geometry`` would
    be, in a plain DataFrame (no shapely points: 16 bytes an event instead of about 210; geodata.points).

    Adds ``len(raw)`` to ``report.rows_read`` and the outcome to ``rows_loaded`` and
    ``rows_rejected``; problems are appended to ``report.problems`` in row order.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(raw)
    if len(rows) != n:
        raise ValueError("rows must give one row number per record")
    raw = raw.reset_index(drop=True)
    labels = dict(labels or {})
    if _uses_pair(raw.columns):
        for name in ("latitude", "longitude"):  # their messages name the combined column
            labels.setdefault(name, labels.get("coordinates", "coordinates"))
    check = _Checker(rows, labels)

    lat, lon, geom_missing, placed = _coordinates(raw, check, geocode)
    # One GEOS point per row is the costliest step. Shapely releases the GIL while GEOS builds
    # them, so the points (of every row: rejected ones are dropped below) are made in a second
    # thread, from copies, while the other columns are checked; swapped pairs are redone after.
    # A million new Python objects would set off the cyclic garbage collector again and again
    # (about a third of the time the points take), and they hold no cycles: it waits meanwhile.
    with _collector_paused(), ThreadPoolExecutor(max_workers=1) as pool:
        points = pool.submit(shapely.points, lon.copy(), lat.copy()) if geometry else None
        swapped = _check_coordinates(lat, lon, geom_missing, check, region)
        occurred_at, precision = _times(raw, check, tz, dayfirst, default_dayfirst)
        munition, munition_class, munition_raw = _munitions(raw, check)
        outcome = _outcomes(raw, check)
        killed = _count(raw, "killed", check)
        injured = _count(raw, "injured", check)
        geo_precision = _geo_precision(raw, check, placed)
        event_id = _event_ids(raw, rows, id_prefix)

        # ids all built from strictly increasing row numbers cannot repeat
        made = "event_id" not in raw.columns and bool((np.diff(rows) > 0).all())
        _duplicate_ids(event_id, check, made=made)
        keep = ~check.reject
        location, admin1 = _text_or_empty(raw, "location"), _text_or_empty(raw, "admin1")
        texts = {name: _text_or_empty(raw, name) for name in ("source", "source_url", "notes")}
        shapes = points.result() if points is not None else None
    if shapes is not None and len(swapped):
        shapes[swapped] = shapely.points(lon[swapped], lat[swapped])

    everything = bool(keep.all())

    def kept(values: object) -> object:
        """Values of the kept rows, as an array (no copy when every row is kept)."""
        if isinstance(values, pd.Series):
            values = values.to_numpy() if values.dtype == object else values.array
        return values if everything else values[keep]

    data: dict[str, object] = {
        "event_id": kept(event_id),
        "occurred_at": kept(occurred_at),
        "time_precision": pd.Categorical.from_codes(kept(precision), dtype=TIME_PRECISION_DTYPE),
        **({"geometry": GeometryArray(kept(shapes), crs="EPSG:4326")} if geometry
           else {LAT: kept(lat), LON: kept(lon)}),
        "location": kept(location),
        "admin1": kept(admin1),
        "geo_precision": kept(geo_precision),
        "munition": kept(munition),
        "munition_class": kept(munition_class),
        "outcome": kept(outcome),
        "killed": kept(killed),
        "injured": kept(injured),
    }
    for name, values in texts.items():
        data[name] = kept(values)
    if munition_raw is not None and "munition_raw" not in raw.columns:
        data["munition_raw"] = kept(munition_raw)
    # a combined coordinates column is kept as an extra column when latitude/longitude were used
    used = COORDINATE_COLUMNS if _uses_pair(raw.columns) else ("latitude", "longitude")
    for c in raw.columns:
        if c not in data and c not in used and c not in ("munition_class", "time_precision", "time", "geometry"):
            data[c] = kept(raw[c])
    index = pd.Index(kept(rows), name="row")
    gdf = (gpd.GeoDataFrame(data, index=index, geometry="geometry", crs="EPSG:4326") if geometry
           else pd.DataFrame(data, index=index))

    report.rows_read += n
    report.rows_loaded += int(keep.sum())
    report.rows_rejected += int(check.reject.sum())
    report.problems.extend(p for p in check.problems if p.row is None)
    report.problems.extend(sorted((p for p in check.problems if p.row is not None), key=lambda p: p.row))
    return gdf


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (when it runs) for the duration of the block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _text_or_empty(raw: pd.DataFrame, name: str) -> pd.Series:
    if name in raw.columns:
        return _strip(raw[name])
    return pd.Series(np.nan, index=raw.index, dtype="str")


# --- coordinates -------------------------------------------------------------------------


def _coordinates(
    raw: pd.DataFrame, check: _Checker, geocode: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Latitude and longitude as floats (NaN when missing); flags values that are not numbers.

    Rows with no coordinates are placed from their place names when ``geocode`` (see
    :func:`_geocode`); returns lat, lon, the rows already flagged as having no point, and the
    placed rows with their location precision codes.
    """
    n = len(raw)
    nothing = (np.zeros(0, np.int64), np.zeros(0, np.int8))
    if "latitude" in raw.columns and "longitude" in raw.columns:
        lat_col, lon_col = raw["latitude"], raw["longitude"]
        pair_bad = np.zeros(n, bool)
    elif _uses_pair(raw.columns):
        lat_col, lon_col, pair_bad = _split_pairs(raw["coordinates"], check)
    else:
        lat_col = None
    if lat_col is not None:
        lat, lat_bad = _numbers(lat_col)
        lon, lon_bad = _numbers(lon_col)
        for name, bad, col in (("latitude", lat_bad, lat_col), ("longitude", lon_bad, lon_col)):
            check.flag(bad, name, [f"{name} {v!r} is not a number" for v in _shown(col, bad)])
        empty = np.isnan(lat) & np.isnan(lon) & ~lat_bad & ~lon_bad & ~pair_bad
        placed = _geocode(raw, empty, lat, lon, check, "latitude") if geocode and empty.any() else nothing
        # (rows whose place names were looked up in vain were told so by _geocode)
        missing = (np.isnan(lat) | np.isnan(lon)) & ~check.reject
        check.flag(missing, "latitude", "no coordinates (latitude/longitude empty)")
        return lat, lon, pair_bad, placed
    lat, lon = np.full(n, np.nan), np.full(n, np.nan)
    if "geometry" in raw.columns:
        geoms = gpd.GeoSeries(raw["geometry"].array if hasattr(raw["geometry"], "array") else raw["geometry"])
        missing = (geoms.isna() | geoms.is_empty).to_numpy()
        kinds = geoms.geom_type.to_numpy()
        other = ~missing & (kinds != "Point")
        if other.any():  # a line or polygon: its centre stands for the event, said per row
            check.flag(other, "geometry", [f"{k} geometry: its centre is used" for k in kinds[other]], "warning")
            geoms = geoms.copy()
            geoms[other] = geoms[other].representative_point()
        ok = ~missing
        if ok.any():
            lon[ok] = geoms[ok].x.to_numpy()
            lat[ok] = geoms[ok].y.to_numpy()
        placed = _geocode(raw, missing, lat, lon, check, "geometry") if geocode and missing.any() else nothing
        still = missing & np.isnan(lat)
        check.flag(still & ~check.reject, "geometry", "no geometry")
        return lat, lon, still, placed
    everything = np.ones(n, bool)
    placed = _geocode(raw, everything, lat, lon, check, "latitude") if geocode and n else nothing
    still = np.isnan(lat)
    check.flag(still & ~check.reject, "latitude", "no coordinates")
    return lat, lon, still, placed


def _uses_pair(columns: Iterable[str]) -> bool:
    """Whether points come from a combined coordinates column (no latitude/longitude pair, no geometry)."""
    names = set(columns)
    return "coordinates" in names and not {"latitude", "longitude"} <= names and "geometry" not in names


# "50.45, 30.52", "50.45 30.52", "50,45; 30,52", "(50.45, 30.52)": latitude first
_PAIR = (r"^\s*\(?\s*(?P<lat>[+-]?\d+(?:[.,]\d+)?)\s*°?\s*(?:[,;/]\s*|\s+)"
         r"(?P<lon>[+-]?\d+(?:[.,]\d+)?)\s*°?\s*\)?\s*$")


def _split_pairs(values: pd.Series, check: _Checker) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """A combined "latitude, longitude" column as two text columns; a cell that is not such a
    pair is flagged (its row and the column) and read as no point."""
    arr = _arrow_text(values)
    parts = pc.extract_regex(arr, _PAIR)
    bad = (pc.is_valid(arr).to_numpy(zero_copy_only=False) & ~pc.is_valid(parts).to_numpy(zero_copy_only=False))
    check.flag(bad, "coordinates", [f"coordinates {v!r} are not a latitude, longitude pair (e.g. 50.45, 30.52)"
                                    for v in _shown(values, bad)])
    lat, lon = (pc.struct_field(parts, name).to_pandas() for name in ("lat", "lon"))
    return lat, lon, bad


#: Place kinds a row without coordinates may be placed at (not a country or a macro-region:
#: too large to stand for a strike's location).
_PLACEABLE = ("settlement", "raion", "oblast")


def _one_place(name: str):
    """The one place ``name`` names, every part of it known to the gazetteer; None otherwise."""
    parts = resolve_parts(name)
    places = {(p.kind, p.name, p.admin1_code): p for _, p in parts if p is not None}
    if not parts or any(p is None for _, p in parts) or len(places) != 1:
        return None
    place = next(iter(places.values()))
    return place if place.kind in _PLACEABLE else None


def _place_named(location: str, admin1: str) -> tuple[object | None, str]:
    """The place a row's location (within its admin1) names and the words it was read from;
    (None, why not) when the gazetteer knows no single place by those names."""
    if location and admin1:
        place = _one_place(f"{location}, {admin1}")
        if place is not None:
            return place, f"location {location!r}, admin1 {admin1!r}"
        alone = _one_place(location)
        if alone is not None and _one_place(admin1) is None:  # an admin1 it does not know cannot contradict
            return alone, f"location {location!r}"
        return None, (f"location {location!r} with admin1 {admin1!r} is not one place the offline gazetteer "
                      "knows (unknown, ambiguous or in another oblast)")
    name, column = (location, "location") if location else (admin1, "admin1")
    place = _one_place(name)
    if place is not None:
        return place, f"{column} {name!r}"
    return None, f"{column} {name!r} is not one place the offline gazetteer knows (unknown or ambiguous)"


def _geocode(raw: pd.DataFrame, empty: np.ndarray, lat: np.ndarray, lon: np.ndarray,
             check: _Checker, point_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Place rows with no coordinates (``empty``) at the place their location and admin1 name.

    The gazetteer is asked once per distinct name pair; lat/lon are filled in place and each
    placed row is told where it was put. Rows whose names resolve to no single place get
    an error saying so (in ``point_column``). Returns the placed positions and their
    location precision codes.
    """
    names = [c for c in ("location", "admin1") if c in raw.columns]
    if not names:
        return np.zeros(0, np.int64), np.zeros(0, np.int8)
    idx = np.flatnonzero(empty)
    loc, adm = (_strip(raw[c].iloc[idx]).fillna("") if c in names else pd.Series("", index=range(len(idx)))
                for c in ("location", "admin1"))
    named = (loc != "").to_numpy() | (adm != "").to_numpy()
    idx, loc, adm = idx[named], loc[named], adm[named]
    if not len(idx):
        return np.zeros(0, np.int64), np.zeros(0, np.int8)
    codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([loc.to_numpy(), adm.to_numpy()]))
    found = [_place_named(a, b) for a, b in pairs]
    ok = np.array([p is not None for p, _ in found])[codes]
    rows_ok, row_codes = idx[ok], codes[ok]
    places = [p for p, _ in found]
    lat[rows_ok] = np.array([p.lat if p else np.nan for p in places])[row_codes]
    lon[rows_ok] = np.array([p.lon if p else np.nan for p in places])[row_codes]
    precision = np.array([GEO_PRECISIONS.index(p.geo_precision) if p else 0 for p in places], np.int8)[row_codes]
    column = np.array(["location" if a else "admin1" for a, _ in pairs])
    for col in ("location", "admin1"):
        here = column[row_codes] == col
        check.flag(rows_ok[here], col,
                   [f"no coordinates: placed at {places[c].name} ({places[c].geo_precision} precision) "
                    f"from {found[c][1]}" for c in row_codes[here]], "warning")
    bad, bad_codes = idx[~ok], codes[~ok]
    empty_said = "no geometry" if point_column == "geometry" else "no coordinates (latitude/longitude empty)"
    check.flag(bad, point_column, [f"{empty_said}; {found[c][1]}" for c in bad_codes])
    return rows_ok, precision


def _in(lat: np.ndarray, lon: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    south, west, north, east = box
    return (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)


def _check_coordinates(lat, lon, already_flagged, check: _Checker, region) -> np.ndarray:
    """Range checks and the swapped latitude/longitude rule; swaps are corrected in place
    and their positions returned.

    A pair is swapped back only when, as written, the point lies outside the expected region
    (``region``, default :data:`THEATRE`) and, swapped, inside it: a point already inside is
    never moved. When no point of the file lies inside as written and most do once swapped,
    the columns themselves look swapped: said once, nothing changed. A point outside the
    region either way that, swapped, would fall among the rest of the file is flagged, not moved.
    """
    present = ~np.isnan(lat) & ~np.isnan(lon) & ~already_flagged
    expected = region or THEATRE
    here = present & _in(lat, lon, expected)
    swap = present & ~here & _in(lon, lat, expected)
    n_swap, n_here = int(swap.sum()), int(here.sum())
    if n_swap * 2 > int(present.sum()) and n_here * 20 <= n_swap:
        check.note(
            "latitude",
            f"latitude and longitude columns look swapped for the whole file ({n_swap} of {int(present.sum())} "
            "points fall in the expected region only when swapped); not corrected: map the columns explicitly",
        )
        swap[:] = False
    if swap.any():
        idx = np.flatnonzero(swap)
        check.flag(
            idx,
            "latitude",
            [
                f"latitude {_fmt(lat[i])} and longitude {_fmt(lon[i])} look swapped (as written the point lies "
                "outside the expected region, Ukraine and its surroundings; swapped it lies inside): swapped back"
                for i in idx
            ],
            "warning",
        )
        lat[idx], lon[idx] = lon[idx].copy(), lat[idx].copy()
    elsewhere = present & ~here & ~swap & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if elsewhere.any() and n_swap * 2 <= int(present.sum()):
        _flag_doubtful_pairs(lat, lon, present & ~swap, elsewhere, check)
    bad_lat = present & ~swap & (np.abs(lat) > 90)
    check.flag(bad_lat, "latitude", [f"latitude {_fmt(v)} is out of range (-90..90)" for v in lat[bad_lat]])
    bad_lon = present & ~swap & ~bad_lat & (np.abs(lon) > 180)
    check.flag(bad_lon, "longitude", [f"longitude {_fmt(v)} is out of range (-180..180)" for v in lon[bad_lon]])
    zero = present & (lat == 0) & (lon == 0)
    check.flag(zero, "latitude", "latitude 0 and longitude 0: no usable coordinates")
    return np.flatnonzero(swap)


def _flag_doubtful_pairs(lat: np.ndarray, lon: np.ndarray, usable: np.ndarray, elsewhere: np.ndarray,
                         check: _Checker) -> None:
    """Flag (never move) points outside the expected region that, swapped, fall among the rest
    of the file (the middle half of its points, widened)."""
    ok = usable & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if ok.sum() < _MIN_ROWS_FOR_AREA:
        return
    qlat, qlon = np.quantile(lat[ok], [0.25, 0.75]), np.quantile(lon[ok], [0.25, 0.75])
    mlat, mlon = max(2.0, 1.5 * (qlat[1] - qlat[0])), max(2.0, 1.5 * (qlon[1] - qlon[0]))
    area = (qlat[0] - mlat, qlon[0] - mlon, qlat[1] + mlat, qlon[1] + mlon)
    doubt = elsewhere & ~_in(lat, lon, area) & _in(lon, lat, area)
    idx = np.flatnonzero(doubt)
    check.flag(idx, "latitude",
               [f"latitude {_fmt(lat[i])} and longitude {_fmt(lon[i])} may be swapped (swapped, the point falls "
                "among the rest of the file, but outside the expected region, Ukraine and its surroundings): "
                "not changed" for i in idx], "warning")


# --- times -------------------------------------------------------------------------------


def _times(raw: pd.DataFrame, check: _Checker, tz: str, dayfirst: bool | None, default_dayfirst: bool = True):
    """UTC instants and precision codes of ``occurred_at`` (joined with a separate ``time`` column),
    read and worded by :func:`geodata.timeparse.check_times`, the one date reader."""
    n = len(raw)
    if "occurred_at" not in raw.columns:
        check.flag(np.ones(n, bool), "occurred_at", "no date")
        missing = pd.DatetimeIndex(np.full(n, np.datetime64("NaT"), "datetime64[ns]")).tz_localize("UTC")
        return missing, np.full(n, -1, np.int8)
    checked = check_times(raw["occurred_at"], tz=tz, dayfirst=dayfirst, default_dayfirst=default_dayfirst,
                          clock=raw["time"] if "time" in raw.columns else None)
    for note in checked.notes:
        check.note("occurred_at", note)
    check.flag(checked.empty, "occurred_at", "no date")
    groups: dict[tuple[str, str], tuple[list[int], list[str]]] = {}
    for p in checked.problems:
        where, said = groups.setdefault(("occurred_at" if p.part == "date" else "time", p.severity), ([], []))
        where.append(p.position)
        said.append(p.message)
    for (column, severity), (where, said) in groups.items():
        check.flag(np.array(where, np.int64), column, said, severity)
    precision = checked.precision.copy()
    if "time_precision" in raw.columns:
        vcodes, uniques = _codes(raw["time_precision"], lower=True)
        lookup = np.array([TIME_PRECISIONS.index(u) if u in TIME_PRECISIONS else -2 for u in uniques] + [-1])
        codes = lookup[vcodes]
        unknown = codes == -2
        check.flag(unknown, "time_precision",
                   [f"time precision {v!r} is not one of {', '.join(TIME_PRECISIONS)}; taken from the date"
                    for v in _shown(raw["time_precision"], unknown)], "warning")
        # the coarser of what the file says and what the value shows
        precision = np.where((codes >= 0) & (precision >= 0), np.maximum(codes, precision), precision).astype(np.int8)
    return checked.utc, precision


# --- munitions, outcomes, counts ---------------------------------------------------------


def _munitions(raw: pd.DataFrame, check: _Checker) -> tuple[pd.Series, pd.Categorical, pd.Series | None]:
    """Catalogue names and classes per row, and (when some cell holds a link or a placeholder such as
    "n/a" instead of a munition) the text of those cells, for a ``munition_raw`` column: such a
    cell leaves the munition empty, so no facet or summary lists it as a munition."""
    if "munition" not in raw.columns:
        stated = "; classes as the munition_class column states them" if "munition_class" in raw.columns else ""
        check.note("munition", f"no munition column: every munition is unknown{stated}")
        raw = raw.assign(munition=pd.Series(None, index=raw.index, dtype="object"))
    codes, uniques = _codes(raw["munition"])
    not_one = [not_a_munition(u) for u in uniques]
    # "Shahed?", "possibly Kh-101": an identification the file itself doubts is not made certain
    doubted = [not w and bool(DOUBT.search(u)) for w, u in zip(not_one, uniques)]
    found = [None if d or w else resolve_munition(u) for d, w, u in zip(doubted, not_one, uniques)]
    # "ракета Х-101", "Shahed-136 drone": one catalogue munition named inside longer text
    mentioned = [None if m or d or w else _single_mention(u) for m, d, w, u in zip(found, doubted, not_one, uniques)]
    found = [m or other for m, other in zip(found, mentioned)]
    # "guided bomb", "балістична ракета": a class word gives its class (a KAB or a FAB with UMPK alike)
    words = [None if m or d or w else class_word(u) for m, d, w, u in zip(found, doubted, not_one, uniques)]
    names = pa.array([None if w else m.name if m else u for m, w, u in zip(found, not_one, uniques)],
                     pa.large_string())
    unknown_class = MUNITION_CLASSES.index("unknown")
    class_codes = np.array([MUNITION_CLASSES.index(m.munition_class) if m else unknown_class for m in found]
                           + [unknown_class])[codes]
    resolved = np.array([m is not None for m in found] + [False])[codes]
    name_col = pc.take(names, pa.array(codes, mask=codes < 0)).to_pandas()
    stated = np.full(len(codes), -1)
    if "munition_class" in raw.columns:
        # a class the file states is used where the catalogue cannot tell
        ccodes, cuniques = _codes(raw["munition_class"], lower=True)
        given = np.array([MUNITION_CLASSES.index(c) if c in MUNITION_CLASSES else -1 for c in cuniques] + [-1])[ccodes]
        stated = np.where(~resolved, given, -1)
        class_codes = np.where(stated >= 0, stated, class_codes)
    worded = np.where(stated < 0, np.array([MUNITION_CLASSES.index(c) if c else -1 for c in words] + [-1])[codes], -1)
    class_codes = np.where(worded >= 0, worded, class_codes)  # where the file states no class
    doubted_rows = np.array(doubted + [False])[codes]
    placeholder_rows = np.array([w is not None for w in not_one] + [False])[codes]
    unknown_rows = (codes >= 0) & ~resolved & ~doubted_rows & ~placeholder_rows
    read_as = np.array([m is not None for m in mentioned] + [False])[codes]
    check.flag(
        read_as,
        "munition",
        [f"munition {v!r} read as {found[codes[i]].name} (named in the text)"
         for i, v in zip(np.flatnonzero(read_as), _shown(raw["munition"], read_as))],
        "warning",
    )

    def kept_as(where: np.ndarray) -> list[str]:
        """How each flagged row's class was set: from the file when it states one, else from a class word."""
        return ["class from the file: " + MUNITION_CLASSES[c] if c >= 0 else
                "class from the word: " + MUNITION_CLASSES[w] if w >= 0 else "class unknown"
                for c, w in zip(stated[where], worded[where])]

    check.flag(
        doubted_rows,
        "munition",
        [f"munition {v!r} is marked as uncertain: kept as written, {how}"
         for v, how in zip(_shown(raw["munition"], doubted_rows), kept_as(doubted_rows))],
        "warning",
    )
    check.flag(
        unknown_rows,
        "munition",
        [f"munition {v!r} is not in the catalogue: kept as written, {how}"
         for v, how in zip(_shown(raw["munition"], unknown_rows), kept_as(unknown_rows))],
        "warning",
    )
    raw_text = None
    if placeholder_rows.any():
        check.flag(
            placeholder_rows,
            "munition",
            [f"munition {v!r} is {not_one[codes[i]]}, not a munition: no munition named (the text is kept in "
             f"munition_raw), {how}" for i, v, how in zip(np.flatnonzero(placeholder_rows),
                                                          _shown(raw["munition"], placeholder_rows),
                                                          kept_as(placeholder_rows))],
            "warning",
        )
        raw_text = _strip(raw["munition"]).reset_index(drop=True).where(placeholder_rows)
    return name_col, pd.Categorical.from_codes(class_codes, dtype=MUNITION_CLASS_DTYPE), raw_text


#: Words and marks with which a record doubts its own munition identification (EN/UK/RU).
DOUBT = re.compile(
    r"\?|\b(?:possibl[ey]|probabl[ey]|maybe|likely|suspected|presumabl[ey]|unconfirmed|alleged(?:ly)?|"
    r"можливо|ймовірно|імовірно|вірогідно|ймовірний|возможно|вероятно|предположительно|предположительный)\b",
    re.IGNORECASE,
)


def _single_mention(text: str):
    named = find_munitions(text)
    return named[0] if len(named) == 1 else None


def _outcomes(raw: pd.DataFrame, check: _Checker) -> pd.Categorical:
    n = len(raw)
    unknown = OUTCOMES.index("unknown")
    if "outcome" not in raw.columns:
        check.note("outcome", "no outcome column: every outcome is unknown")
        return pd.Categorical.from_codes(np.full(n, unknown), dtype=OUTCOME_DTYPE)
    codes, uniques = _codes(raw["outcome"])
    read = [read_outcome(u) for u in uniques]
    result = np.array([OUTCOMES.index(m) if m else unknown for m, _ in read] + [unknown])[codes]
    # every value not written as an outcome word is said, row by row: nothing is upgraded silently
    said = {i: _OUTCOME_SAID[how].format(outcome=m) for i, (m, how) in enumerate(read) if how != "exact"}
    flagged = np.array([i in said for i in range(len(read))] + [False])[codes]
    if flagged.any():
        idx = np.flatnonzero(flagged)
        check.flag(idx, "outcome",
                   [f"outcome {v!r} {said[codes[i]]}" for i, v in zip(idx, _shown(raw["outcome"], idx))], "warning")
    return pd.Categorical.from_codes(result, dtype=OUTCOME_DTYPE)


_OUTCOME_SAID = {
    "phrase": "read as {outcome}",
    "failed": "read as {outcome} (it says the interception failed or did not happen; never read as intercepted)",
    "several": "names several outcomes: set to unknown",
    "none": "is not recognised: set to unknown",
}


def _count(raw: pd.DataFrame, name: str, check: _Checker) -> pd.array:
    n = len(raw)
    if name not in raw.columns:
        return pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool))
    values, not_number = _numbers(raw[name])
    bad_number = ~np.isnan(values) & ((values < 0) | (values != np.round(values)))
    bad = not_number | bad_number
    check.flag(bad, name, [f"{name} {v!r} is not a whole number of people: left empty" for v in _shown(raw[name], bad)],
               "warning")
    huge = ~bad & (values > _MAX_PEOPLE)  # NaN compares False
    check.flag(huge, name, [f"{name} {_fmt(v)} in one event is implausible (above {_MAX_PEOPLE:,}): kept; "
                            "check the number" for v in values[huge]], "warning")
    missing = np.isnan(values) | bad
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


#: More people killed or injured than this in one event is taken for a typo (warned, kept).
_MAX_PEOPLE = 10_000


def _geo_precision(raw: pd.DataFrame, check: _Checker,
                   placed: tuple[np.ndarray, np.ndarray] | None = None) -> pd.Categorical:
    """Location precision per row; rows placed from a place name have their place's (never exact)."""
    n = len(raw)
    exact = GEO_PRECISIONS.index("exact")
    where, placed_codes = placed if placed is not None else (np.zeros(0, np.int64), np.zeros(0, np.int8))
    if "geo_precision" not in raw.columns:
        but = "; rows placed from a place name have that place's precision" if len(where) else ""
        check.note("geo_precision", f"no location precision column: every point is taken as exact{but}")
        result = np.full(n, exact)
        result[where] = placed_codes
        return pd.Categorical.from_codes(result, dtype=GEO_PRECISION_DTYPE)
    codes, uniques = _codes(raw["geo_precision"], lower=True)
    mapped = [u if u in GEO_PRECISIONS else _PRECISION_WORDS.get(u) for u in uniques]
    region = GEO_PRECISIONS.index("region")
    result = np.array([GEO_PRECISIONS.index(m) if m else region for m in mapped] + [exact])[codes]
    unknown = np.array([m is None for m in mapped] + [False])[codes]
    check.flag(unknown, "geo_precision",
               [f"location precision {v!r} is not one of exact, settlement, region: taken as region"
                for v in _shown(raw["geo_precision"], unknown)], "warning")
    result[where] = placed_codes  # the point is the gazetteer's, whatever the file says
    blank = codes < 0
    blank[where] = False
    if blank.any():
        check.note("geo_precision", f"{int(blank.sum())} rows have no location precision: taken as exact")
    return pd.Categorical.from_codes(result, dtype=GEO_PRECISION_DTYPE)


def _event_ids(raw: pd.DataFrame, rows: np.ndarray, prefix: str | None) -> pd.Series:
    """Ids as given; "<file stem>-<row>" where the file has none."""
    given = _strip(raw["event_id"]).reset_index(drop=True) if "event_id" in raw.columns else None
    blank = np.ones(len(rows), bool) if given is None else given.isna().to_numpy()
    if given is not None and not blank.any():
        return given
    made = pc.binary_join_element_wise(f"{prefix or 'row'}-", pc.cast(pa.array(rows), pa.string()), "")
    made = made.to_pandas()
    return made if given is None else given.where(~blank, made)


def _duplicate_ids(event_id: pd.Series, check: _Checker, *, made: bool = False) -> None:
    """Warn on each repeated id, naming the row that has it first; over every row read, so
    a rejected row's id still counts (``made``: every id was built from its row number, so
    none repeats)."""
    if made or _all_distinct(event_id):
        return
    ids = event_id.reset_index(drop=True)
    dup = ids.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first_row = dict(zip(ids[~dup].tolist(), check.rows[~dup].tolist()))
    check.flag(np.flatnonzero(dup), "event_id",
               [f"event id {v!r} is also on row {first_row[v]}" for v in ids.to_numpy()[dup]], "warning")


def _all_distinct(ids: pd.Series) -> bool:
    """Whether no id repeats (over all rows, so also over the kept ones)."""
    arr = pa.array(ids.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        return False
    n = len(arr)
    if n < 2:
        return True
    # ids written in increasing order (sequential, zero-padded) cannot repeat: no hashing needed
    if pc.all(pc.greater(arr.slice(1), arr.slice(0, n - 1))).as_py():
        return True
    return len(pc.unique(arr)) == n
