"""One strike, many reports: find the reports of different sources that tell the same strike.

Two reports can be the same strike when

- **their times overlap**, each taken as the span its precision allows: an exact time is an
  instant, a day-only date is the whole Kyiv-local day (so 03:40 and "2 June" fit), and the
  two may be up to ``within_hours`` apart (two exact times; an exact time and a day may be
  that far outside the day, for a night strike dated to the evening before). Two day-only
  reports must name the same day. A month-only report is never matched by time alone, nor is
  a report with no time or no point;
- **their places are close**, each with its precision's reach: two exact points within
  ``within_km``; a settlement-precision point reaches over its settlement (3 km per square root
  of 100,000 people plus ``within_km``, at least 5 and at most 25 km: 18 km for Kyiv; GeoNames
  populations of the largest town of 5,000 people or more within 5 km of the point, from
  :mod:`geodata.gazetteer`; no such town: a village, 5 km); a region-precision point (an oblast's centre) is
  never matched by place alone: it needs exact times on both sides within half of
  ``within_hours`` and the same named munition, within 150 km;
- **their munitions do not contradict**, as the catalogue decides (:mod:`geodata.munitions`):
  aliases name one munition (Hwasong-11 = KN-23); KN-23 fits "ballistic missile", "missile"
  and a report naming none; it does not fit Shahed-136 (another class) nor Iskander-M (another
  named munition). A name the report doubts ("KN-23?") counts for its class, and may differ
  from a named munition of that class at a cost;
- **their outcomes and casualty figures** may differ at a cost: "intercepted" and "debris" fit
  together, "impact" and "intercepted" are a soft disagreement (one source saw the debris
  land); "0 killed" against "3 killed" is a soft disagreement, 2 against 4 a slight one (tolls
  grow as the dead are found).

Reports of one source are never matched with each other, and a strike holds at most one
report per source.

Scoring. Each candidate pair gets a confidence in 0..1, the product of factors for time,
place, munition, outcome and casualties, each 1.0 for full agreement and lower as the
evidence weakens: exact times 0 min apart 1.0, ``within_hours`` apart 0.5; one day-only date
0.8, two 0.65; exact points 0 km apart 1.0, ``within_km`` apart 0.5; a settlement-precision
place 0.8 anywhere within reach (a strike is as likely anywhere in the town); a region 0.5;
same named munition 1.0, one doubted 0.9, class agreement 0.85, no munition named 0.7,
different names of one class with a doubt 0.55; same outcome 1.0, unknown 0.9, impact vs
intercepted 0.6. Each factor gives its reason in words ("12 min apart", "0.8 km apart",
"same munition (KN-23)", "munition class agrees (ballistic missile)", "one report gives the
day only", "outcomes disagree (impact / intercepted)"); a group's confidence is that of its
weakest link.

Sources are folded in one at a time, in the order given: the first source's reports are the
first strikes; each next source's reports are matched to the strikes found so far (a strike
compared through its most precise time, most precise place, most specific munition and first
stated outcome), one-to-one, and the reports left over become new strikes. Candidate pairs
come from blocks: a time bucket (a day, its edges at about local noon when few strikes
happen) and a spatial grid cell (10 km; a region-precision report is blocked by 2-hour
bucket, 150 km cell and munition name instead); each report is listed in every bucket and
cell its span reaches, so no pair within the tolerances is missed and no all-pairs
comparison is made (a pair found in several blocks is compared once, in the first block both
spans share). Where candidates compete (several strikes on one city in one night),
the assignment that maximises the summed confidence of each connected block wins
(``scipy.optimize.linear_sum_assignment``; a block with one strike or one report takes its
best pair, a two-by-two block is solved in closed form). Only pairs among the five best of
both their strike and their report take part (weaker ones would hardly ever be chosen, and
they chain a crowded town's day into one huge block). Each pair kept is weighed by solving
its block again without it: a pair the block could replace at a loss of less than
``AMBIGUITY_MARGIN`` (15%) of its confidence is a toss-up (two strikes on one town that
night, and a report that says only "the town, that day"). Toss-ups are not merged, since a
coin toss is wrong half of the time; they are listed in ``MatchResult.possible`` with
"another pairing fits almost as well", for the analyst to join by hand. A block of more than
60 strikes or reports (only in very dense data) is not solved exactly: it keeps the pairs
that are the best of both their strike and their report, weighed against the best other
candidate of either, which any one-to-one assignment giving each report its best partner
would keep too. The folding order can change a close call between three or more sources.

Quality, measured on :mod:`geodata.multisource` (three sources with known truth, near-misses
included): precision 99.2-99.5% and recall 94.9-96.1% of matched pairs over six seeds (month-
only reports, which the rules never match, left out of the recall). Merging the toss-ups
instead would give recall 96.4-97.2% but precision 98.3-98.7%. Speed (benchmarks/bench_match.py):
two sources of 100,000 reports in 0.7 s, of 1,000,000 in 12 s and 0.6 GB besides the frames.

The analyst's decisions (:class:`Decisions`: confirm a group, split a report out of its
strike or split a group, join two strikes) name reports by (source name, event id), are
kept in a small JSON file and are applied on every match: a confirmed or joined pair is
forced together (confidence 1.0), a split pair is never put together again.

Why no record-linkage library. Splink (Fellegi-Sunter model on DuckDB, 4.x/5.x) and
recordlinkage 0.16 (pandas) were weighed. Both score pairs from field comparisons, but the
comparisons this needs are none of theirs: a time is an instant or a day depending on its
precision, a place's reach depends on its precision and the settlement's size, munitions are
decided by the catalogue's aliases and classes (all would be hand-written SQL or pandas
functions in either). Neither gives an optimal one-to-one assignment: recordlinkage has none,
Splink's ``cluster_using_single_best_links`` accepts a link only when it is the single best
for both ends, breaking ties arbitrarily. Splink learns its match weights by EM, which needs
many comparable columns and gives weights that are hard to say in words; recordlinkage
builds a pandas MultiIndex of every candidate pair and blocks only on equal keys (no
neighbouring cells), too slow and too large at a million reports a side. Splink also brings
DuckDB, sqlglot, altair and more (tens of MB) to an offline desktop install. What is needed
is a few hundred lines of numpy plus scipy's assignment solver, so the scorer is written here.
"""
from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geodata.errors import DataError
from geodata.normalize import DOUBT  # the readers' test for a doubted name: both agree
from geodata.munitions import CLASS_WORDS, find_munitions, munition_key, resolve_munition, word_keys
from geodata.points import LAT, LON, has_geometry, lon_lat, points_of
from geodata.schema import (
    CANONICAL_COLUMNS,
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

__all__ = [
    "WITHIN_HOURS",
    "WITHIN_KM",
    "CasualtyTotals",
    "Decision",
    "Decisions",
    "Group",
    "MatchResult",
    "MissingReport",
    "casualty_totals",
    "match_reports",
    "merge_reports",
]

#: Default time tolerance: exact times this far apart can still be one strike.
WITHIN_HOURS = 2.0
#: Default place tolerance: exact points this far apart can still be one strike.
WITHIN_KM = 2.0
#: Reach of a region-precision point (an oblast's centre), and what it needs besides.
REGION_KM = 150.0
#: Settlement reach: 3 km per square root of 100,000 people plus ``within_km``, within these bounds.
SETTLEMENT_MIN_KM = 5.0
SETTLEMENT_MAX_KM = 25.0
#: A pair whose block would lose less than this share of the pair's confidence by pairing its
#: reports otherwise is a toss-up.
AMBIGUITY_MARGIN = 0.15

Ref = tuple[str, str]  # (source name, event id): how decisions name a report

_EXACT, _DAY, _MONTH = 0, 1, 2
_GEO_EXACT, _GEO_SETTLEMENT, _GEO_REGION = 0, 1, 2
_UNKNOWN_OUTCOME = OUTCOMES.index("unknown")
_EARTH_KM = 6371.0088
_CELL_KM = 10.0
_REGION_CELL_KM = REGION_KM
_BUCKET_S = 86400
_BUCKET_OFFSET_S = 10 * 3600
_SMALL_BLOCK = 60  # strikes or reports: a block up to this size is solved, and weighed, exactly
_PAIR_CHUNK = 250_000  # candidate pairs compared at once (bounds memory at 1M reports a side)

# ------------------------------------------------------------------------------ munitions

# munition kinds, by how much a report says (higher = more specific)
_M_NONE, _M_CLASS, _M_OTHER, _M_DOUBTED, _M_NAMED = 0, 1, 2, 3, 4
_ALL_CLASSES = (1 << len(MUNITION_CLASSES)) - 1


def _bit(name: str) -> int:
    return 1 << MUNITION_CLASSES.index(name)


_MISSILES = _bit("ballistic missile") | _bit("cruise missile") | _bit("air-launched missile") | _bit(
    "surface-to-air missile")
_DRONES = _bit("loitering munition") | _bit("decoy")
# Words for a class (geodata.munitions.CLASS_WORDS) or a family of classes rather than a munition.
_CLASS_WORDS: dict[int, tuple[str, ...]] = {_bit(cls): words for cls, words in CLASS_WORDS.items()} | {
    _DRONES: ("drone", "uav", "attack drone", "strike drone", "kamikaze drone", "loitering munition", "бпла",
              "ударний бпла", "безпілотник", "дрон", "беспилотник", "ударный бпла"),
    _MISSILES: ("missile", "ракета", "ракети", "missile strike", "ракетний удар", "ракетный удар"),
    _MISSILES | _bit("rocket artillery"): ("rocket",),
    _ALL_CLASSES: ("unknown", "unidentified", "not known", "невідомо", "неизвестно", "na", "n a"),
}
_CLASS_KEYS = {munition_key(word): mask for mask, words in _CLASS_WORDS.items() for word in words}


def _class_word(text: str) -> int | None:
    return next((_CLASS_KEYS[k] for k in word_keys(text) if k in _CLASS_KEYS), None)


def _read_munition(text: object) -> tuple[int, str | None, int]:
    """(kind, name, class mask) of one munition text: a catalogue name (canonical), a doubted one,
    a class word, an unlisted name (its lookup key), or nothing."""
    if not isinstance(text, str) or not text.strip():
        return _M_NONE, None, _ALL_CLASSES
    doubted = bool(DOUBT.search(text))
    plain = DOUBT.sub(" ", text) if doubted else text
    found = resolve_munition(plain)
    if found is None:
        named = find_munitions(plain)
        found = named[0] if len(named) == 1 else None
        if len(named) > 1:  # "Kh-101 and Kalibr": either of their classes
            mask = 0
            for m in named:
                mask |= _bit(m.munition_class)
            return _M_CLASS, None, mask
    if found is not None:
        return (_M_DOUBTED if doubted else _M_NAMED), found.name, _bit(found.munition_class)
    mask = _class_word(plain)
    if mask is not None:
        return (_M_NONE if mask == _ALL_CLASSES else _M_CLASS), None, mask
    key = munition_key(plain)
    return (_M_OTHER, key, _ALL_CLASSES) if key else (_M_NONE, None, _ALL_CLASSES)


def _single_class(mask: int) -> str | None:
    if mask and not mask & (mask - 1) and mask != _bit("unknown"):
        return MUNITION_CLASSES[mask.bit_length() - 1]
    return None


def _mask_words(mask: int) -> str:
    one = _single_class(mask)
    if one:
        return one
    if mask & ~_MISSILES == 0:
        return "missile"
    if mask & ~_DRONES == 0:
        return "drone"
    return "munition"


# ------------------------------------------------------------------------------ reports as arrays


@dataclass
class _Reports:
    """Every report of every source as flat arrays; a report's global index is its position."""

    keys: list[str]
    frames: list[gpd.GeoDataFrame]
    start: np.ndarray  # per source: global index of its first report
    source: np.ndarray  # int32 source number
    pos: np.ndarray  # int64 row position in its frame
    t_lo: np.ndarray  # int64 seconds (UTC); month rows and rows without a time: unusable
    t_hi: np.ndarray  # exact: = t_lo; day: next local midnight
    tp: np.ndarray  # int8 time precision (0 exact, 1 day, 2 month, -1 none)
    lat: np.ndarray
    lon: np.ndarray
    gp: np.ndarray  # int8 place precision (0 exact, 1 settlement, 2 region, -1 no point)
    reach: np.ndarray  # km
    mkind: np.ndarray  # int8
    mname: np.ndarray  # int32 code into names (-1 none)
    mmask: np.ndarray  # int32 class mask
    out: np.ndarray  # int8 outcome code
    killed: np.ndarray  # float, NaN where not given
    injured: np.ndarray
    names: list[str] = field(default_factory=list)  # munition names / unlisted keys by code
    _columns: dict[object, object] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.source)

    @cached_property
    def timed(self) -> np.ndarray:
        """Reports whose time can match (exact or day)."""
        return (self.tp >= 0) & (self.tp <= _DAY)

    @cached_property
    def placed(self) -> np.ndarray:
        return self.gp >= 0

    @cached_property
    def t_rank(self) -> np.ndarray:
        """Time precision rank: lower is more precise; no time last."""
        return np.where(self.tp < 0, 3, self.tp).astype(np.int8)

    @cached_property
    def p_rank(self) -> np.ndarray:
        return np.where(self.gp < 0, 3, self.gp).astype(np.int8)

    def locate(self, g: int) -> tuple[str, int]:
        return self.keys[int(self.source[g])], int(self.pos[g])

    def text(self, column: str) -> np.ndarray:
        """A text column over every report (object array by global index; None where missing)."""
        if column not in self._columns:
            parts = [f[column].astype("object").to_numpy() if column in f.columns
                     else np.full(len(f), None, dtype=object) for f in self.frames]
            self._columns[column] = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
        return self._columns[column]

    def arrow(self, column: str) -> pa.Array:
        """A text column over every report as one Arrow array (global index; null where missing)."""
        key = ("arrow", column)
        if key not in self._columns:
            parts = [pa.array(f[column].array, from_pandas=True).cast(pa.large_string()) if column in f.columns
                     else pa.nulls(len(f), pa.large_string()) for f in self.frames]
            chunked = pa.chunked_array(parts, pa.large_string())
            self._columns[key] = chunked.combine_chunks() if parts else pa.array([], pa.large_string())
        return self._columns[key]

    @cached_property
    def index_of(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}

    def value(self, column: str, g: int) -> str:
        """A text cell of report ``g`` ("" when missing or no such column)."""
        return _text(self.text(column)[g])

    def event_id(self, g: int) -> str:
        return self.value("event_id", g)

    def label(self, g: int, names: Mapping[str, str] | None = None) -> str:
        """"<file name>:<event id>" of report ``g``."""
        key = self.keys[self.source[g]]
        return f"{(names or {}).get(key, key)}:{self.event_id(g)}"


def _codes(values: pd.Series, labels: Sequence[str]) -> np.ndarray:
    """Category codes of a column in the schema's order (-1 where missing or not a label)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and list(values.cat.categories) == list(labels):
        return np.asarray(values.cat.codes, dtype=np.int8)
    cat = pd.Categorical(values.astype("object").where(values.notna(), None), categories=list(labels))
    return np.asarray(cat.codes, dtype=np.int8)


def _check_frame(key: str, frame: gpd.GeoDataFrame) -> None:
    missing = [c for c in ("event_id", "occurred_at", "time_precision", "geo_precision", "munition", "outcome")
               if c not in frame.columns]
    if not has_geometry(frame) and not {LAT, LON} <= set(frame.columns):
        missing.insert(3, "geometry")
    if missing:
        raise DataError(f"{key}: not a canonical incident table (no column {', '.join(missing)})")


def _day_span(utc: pd.Series, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (seconds UTC) of the local day each instant falls in."""
    local = utc.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    start = local.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    end = (local + pd.Timedelta(days=1)).dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return (start.dt.tz_convert("UTC").astype("int64").to_numpy() // 10**9,
            end.dt.tz_convert("UTC").astype("int64").to_numpy() // 10**9)


@lru_cache(maxsize=1)
def _settlement_index():
    """KD-tree of the gazetteer's settlements (5,000 people or more) and their populations."""
    from scipy.spatial import cKDTree

    from geodata.gazetteer import settlements

    found = settlements(min_population=5000)
    lat = np.array([s[1] for s in found], dtype=float)
    lon = np.array([s[2] for s in found], dtype=float)
    pop = np.array([s[3] for s in found], dtype=float)
    return cKDTree(np.column_stack([lat, lon * math.cos(math.radians(48.5))])), pop


def _settlement_reach(lat: np.ndarray, lon: np.ndarray, within_km: float) -> np.ndarray:
    """Reach (km) of settlement-precision points: from the population of the largest town within
    5 km of the point; a point with no town of 5,000 people that near is a village (the least reach)."""
    reach = np.full(len(lat), SETTLEMENT_MIN_KM)
    if not len(lat):
        return reach
    coords, inverse = np.unique(np.column_stack([lat, lon]), axis=0, return_inverse=True)
    tree, pop = _settlement_index()
    dist, idx = tree.query(np.column_stack([coords[:, 0], coords[:, 1] * math.cos(math.radians(48.5))]),
                           k=4, distance_upper_bound=5.0 / 111.0)
    found = np.isfinite(dist)
    people = np.where(found, np.append(pop, 0.0)[np.minimum(idx, len(pop))], 0.0).max(axis=1)
    km = np.clip(3.0 * np.sqrt(people / 100_000) + within_km, SETTLEMENT_MIN_KM, SETTLEMENT_MAX_KM)
    per_coord = np.where(found.any(axis=1), km, SETTLEMENT_MIN_KM)
    return per_coord[inverse.ravel()]


def _reports(reports: Mapping[str, gpd.GeoDataFrame], tz: str, within_km: float,
             settlement_km: float | None) -> _Reports:
    keys = list(reports)
    frames = [reports[k] for k in keys]
    for k, f in zip(keys, frames):
        _check_frame(k, f)
    sizes = np.array([len(f) for f in frames], dtype=np.int64)
    start = (np.cumsum(sizes) - sizes).astype(np.int64)
    n = int(sizes.sum())
    source = np.repeat(np.arange(len(frames), dtype=np.int32), sizes)
    pos = (np.arange(n, dtype=np.int64) - np.repeat(start, sizes)).astype(np.int32)
    t_lo = np.zeros(n, np.int64)
    t_hi = np.zeros(n, np.int64)
    tp = np.full(n, -1, np.int8)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    gp = np.full(n, -1, np.int8)
    mkind = np.zeros(n, np.int8)
    mname = np.full(n, -1, np.int32)
    mmask = np.full(n, _ALL_CLASSES, np.int32)
    out = np.full(n, _UNKNOWN_OUTCOME, np.int8)
    killed = np.full(n, np.nan, np.float32)
    injured = np.full(n, np.nan, np.float32)
    names: dict[str, int] = {}
    for i, frame in enumerate(frames):
        sl = slice(int(start[i]), int(start[i] + sizes[i]))
        when = pd.Series(frame["occurred_at"].array)
        if not isinstance(when.dtype, pd.DatetimeTZDtype):
            raise DataError(f"{keys[i]}: occurred_at is not a time with a zone (UTC)")
        when = when.dt.as_unit("ns")  # pandas keeps the unit a reader gave (s, ms, us): integers count nanoseconds here
        ns = when.array.asi8
        has_time = when.notna().to_numpy()
        prec = _codes(frame["time_precision"], TIME_PRECISIONS)
        prec = np.where(has_time, prec, -1).astype(np.int8)
        seconds = np.where(has_time, ns // 10**9, 0)
        lo, hi = seconds.copy(), seconds.copy()
        day = np.flatnonzero(prec == _DAY)
        if len(day):
            lo[day], hi[day] = _day_span(when.iloc[day], tz)
        t_lo[sl], t_hi[sl], tp[sl] = lo, hi, prec
        x, y = lon_lat(frame)
        ok = np.isfinite(x) & np.isfinite(y)
        g = _codes(frame["geo_precision"], GEO_PRECISIONS)
        g = np.where(g < 0, _GEO_EXACT, g)  # a point with no precision stated is taken as exact, as readers do
        lat[sl], lon[sl], gp[sl] = y, x, np.where(ok, g, -1)
        mk, mn, mm = _munition_columns(frame, names)
        mkind[sl], mname[sl], mmask[sl] = mk, mn, mm
        oc = _codes(frame["outcome"], OUTCOMES)
        out[sl] = np.where(oc < 0, _UNKNOWN_OUTCOME, oc)
        for column, target in (("killed", killed), ("injured", injured)):
            if column in frame.columns:
                target[sl] = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    reach = np.full(n, within_km, np.float32)
    settle = np.flatnonzero(gp == _GEO_SETTLEMENT)
    if len(settle):
        reach[settle] = (np.full(len(settle), settlement_km) if settlement_km is not None
                         else _settlement_reach(lat[settle], lon[settle], within_km))
    reach[gp == _GEO_REGION] = REGION_KM
    return _Reports(keys, frames, start, source, pos, t_lo, t_hi, tp, lat, lon, gp, reach, mkind, mname, mmask, out,
                    killed, injured, list(names))


def _munition_columns(frame: pd.DataFrame, names: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind, name code and class mask per row (each distinct munition text read once); a class the
    file states narrows an unnamed or unlisted munition."""
    stated = (_codes(frame["munition_class"], MUNITION_CLASSES) if "munition_class" in frame.columns
              else np.full(len(frame), -1, np.int8))
    codes, uniques = pd.factorize(frame["munition"].array, use_na_sentinel=True)
    kinds, name_codes, masks = [], [], []
    for u in list(uniques) + [None]:
        kind, name, mask = _read_munition(u)
        kinds.append(kind)
        name_codes.append(-1 if name is None else names.setdefault(name, len(names)))
        masks.append(mask)
    idx = np.where(codes < 0, len(uniques), codes)
    kind = np.array(kinds, np.int8)[idx]
    name = np.array(name_codes, np.int32)[idx]
    mask = np.array(masks, np.int32)[idx]
    # a class the file states narrows what an unnamed or unlisted munition can be
    unknown = MUNITION_CLASSES.index("unknown")
    given = (stated >= 0) & (stated != unknown) & (kind != _M_NAMED)
    if given.any():
        bits = (1 << stated.astype(np.int32)).astype(np.int32)
        narrowed = mask & bits
        mask = np.where(given, np.where(narrowed != 0, narrowed, bits), mask).astype(np.int32)
        kind = np.where(given & (kind == _M_NONE), _M_CLASS, kind).astype(np.int8)
    return kind, name, mask


# ------------------------------------------------------------------------------ blocking


def _spans(t0, t1, lat, lon, reach, bucket_s, cell_km, origin, extra=None):
    """Every (time bucket, cell[, extra]) key each report's span reaches, as (keys, report), and
    per report the key of its span's first bucket and cell (its lower corner).

    ``origin`` (seconds) is before every ``t0``; ``extra`` holds small codes (< 2**12)."""
    n = len(t0)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64)
    dlat = cell_km / 110.574
    dlon = cell_km / (111.320 * math.cos(math.radians(48.5)))
    reach = reach.astype(np.float64) * 1.001 + 0.01  # a hair wider than the test: no pair lost to rounding
    b0 = (t0 - origin) // bucket_s
    b1 = (t1 - origin) // bucket_s
    rlat = reach / 110.574
    y0 = np.floor((lat - rlat) / dlat).astype(np.int64)
    y1 = np.floor((lat + rlat) / dlat).astype(np.int64)
    coslat = np.cos(np.radians(np.minimum(np.abs(lat) + rlat, 89.0)))
    rlon = reach / (111.320 * coslat)
    x0 = np.floor((lon - rlon) / dlon).astype(np.int64)
    x1 = np.floor((lon + rlon) / dlon).astype(np.int64)
    ny, nx = y1 - y0 + 1, x1 - x0 + 1
    count = (b1 - b0 + 1) * ny * nx
    row = np.repeat(np.arange(n, dtype=np.int32), count)
    # the k-th key of a report: bucket k // (ny nx), then row and column of the cell (temporaries
    # freed as soon as used: this is the largest allocation of a match)
    total = int(count.sum())
    small = np.int32 if total < 2**31 else np.int64
    k = np.arange(total, dtype=small)
    k -= np.repeat((np.cumsum(count) - count).astype(small), count)
    across = nx.astype(small)[row]
    ib, rem = np.divmod(k, ny.astype(small)[row] * across)
    del k
    iy, ix = np.divmod(rem, across)
    del rem, across
    key = (b0[row] + ib) << 30  # buckets < 2**20: a century of hours
    del ib
    key |= (y0[row] + iy + (1 << 13)) << 16
    del iy
    key |= x0[row] + ix + (1 << 15)
    del ix
    corner = (b0 << 30) | ((y0 + (1 << 13)) << 16) | (x0 + (1 << 15))
    if extra is not None:
        key = (key << 12) | extra[row]
        corner = (corner << 12) | extra
    return key, row, corner


def _first_shared(key: np.ndarray, left: np.ndarray, right: np.ndarray, extra: bool) -> np.ndarray:
    """Whether ``key`` is the first key two spans share (each component the larger of their lower
    corners): a pair found under several keys is kept under that one only."""
    shift = 12 if extra else 0
    out = np.ones(len(key), bool)
    for low, width in ((shift, 16), (shift + 16, 14), (shift + 30, 34)):
        mask = (1 << width) - 1
        part = lambda v: (v >> low) & mask  # noqa: E731
        out &= part(key) == np.maximum(part(left), part(right))
    return out


def _join(lkey, lrow, rkey, rrow):
    """Pairs (left row, right row) that share a key, with the key, in chunks of bounded size."""
    lorder = np.argsort(lkey, kind="stable")
    lkey, lrow = lkey[lorder], lrow[lorder]
    lo = np.searchsorted(lkey, rkey, "left")
    hi = np.searchsorted(lkey, rkey, "right")
    cnt = hi - lo
    has = np.flatnonzero(cnt)
    del hi
    lo, cnt, rrow, rkey = lo[has].astype(np.int32), cnt[has].astype(np.int32), rrow[has], rkey[has]
    total = np.cumsum(cnt, dtype=np.int64)
    begin = 0
    while begin < len(cnt):
        base = total[begin - 1] if begin else 0
        end = int(np.searchsorted(total, base + _PAIR_CHUNK, "right"))
        end = max(end, begin + 1)
        c = cnt[begin:end]
        k = np.arange(int(c.sum()), dtype=np.int64) - np.repeat(np.cumsum(c, dtype=np.int64) - c, c)
        yield lrow[np.repeat(lo[begin:end], c) + k], np.repeat(rrow[begin:end], c), np.repeat(rkey[begin:end], c)
        begin = end


# ------------------------------------------------------------------------------ scoring

# munition relations: score and reason kind
_MR_SAME, _MR_SAME_DOUBTED, _MR_CLASS, _MR_NONE, _MR_DIFF_DOUBTED, _MR_UNLISTED = range(6)
_MR_SCORE = np.array([1.0, 0.9, 0.85, 0.7, 0.55, 0.7])

# outcome agreement, in the order of OUTCOMES (impact, intercepted, deviated, debris, unknown)
_OUT_SCORE = np.array([
    [1.0, 0.6, 0.85, 0.85, 0.9],
    [0.6, 1.0, 0.7, 0.9, 0.9],
    [0.85, 0.7, 1.0, 0.8, 0.9],
    [0.85, 0.9, 0.8, 1.0, 0.9],
    [0.9, 0.9, 0.9, 0.9, 1.0],
])


def _toll_factor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Casualty figures: none against some is a soft disagreement, two different tolls a slight one
    (tolls grow as the dead are found); figures not given say nothing."""
    both = ~np.isnan(a) & ~np.isnan(b)
    none_vs_some = both & ((a == 0) != (b == 0))
    return np.where(none_vs_some, 0.8, np.where(both & (a != b), 0.9, 1.0))


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


@dataclass
class _Pairs:
    """Candidate pairs (strike, report) that pass every hard test, with their evidence."""

    strike: np.ndarray
    report: np.ndarray
    score: np.ndarray
    gap: np.ndarray  # seconds between the time spans
    km: np.ndarray
    mrel: np.ndarray

    @staticmethod
    def empty() -> _Pairs:
        z = np.zeros(0, np.int32)
        return _Pairs(z, z, np.zeros(0, np.float32), z, np.zeros(0, np.float32), np.zeros(0, np.int8))

    def take(self, idx) -> _Pairs:
        return _Pairs(self.strike[idx], self.report[idx], self.score[idx], self.gap[idx], self.km[idx], self.mrel[idx])

    @staticmethod
    def concat(parts: list[_Pairs]) -> _Pairs:
        if not parts:
            return _Pairs.empty()
        return _Pairs(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                        ("strike", "report", "score", "gap", "km", "mrel")))


def _munition_relation(R: _Reports, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(compatible, relation code) of the munitions of reports a and b."""
    ka, kb = R.mkind[a], R.mkind[b]
    na, nb = R.mname[a], R.mname[b]
    shared = (R.mmask[a] & R.mmask[b]) != 0
    named_a, named_b = ka >= _M_DOUBTED, kb >= _M_DOUBTED
    same_name = (na == nb) & (na >= 0)
    both_named = (ka == _M_NAMED) & (kb == _M_NAMED)
    ok = shared & ~(both_named & ~same_name)
    rel = np.select(
        [
            same_name & (ka == kb) & (ka != _M_DOUBTED),
            same_name,
            (ka == _M_NONE) | (kb == _M_NONE),
            named_a & named_b,  # names differ, one doubted
            (ka == _M_OTHER) | (kb == _M_OTHER),
        ],
        [_MR_SAME, _MR_SAME_DOUBTED, _MR_NONE, _MR_DIFF_DOUBTED, _MR_UNLISTED],
        default=_MR_CLASS,
    ).astype(np.int8)
    return ok, rel


def _compare(R: _Reports, reps: dict[str, np.ndarray], s: np.ndarray, b: np.ndarray, within_s: float,
             within_km: float, region: bool) -> _Pairs:
    """Score candidate pairs (strike s, report b); keep those that pass every hard test."""
    at = reps["t"][s]
    lo_a, hi_a, lo_b, hi_b = R.t_lo[at], R.t_hi[at], R.t_lo[b], R.t_hi[b]
    gap = np.maximum(0, np.maximum(lo_b - hi_a, lo_a - hi_b))
    days = (R.tp[at] == _DAY).astype(np.int8) + (R.tp[b] == _DAY)
    # two day-only dates must name the same day; otherwise the spans may be within_s apart
    timely = np.flatnonzero(np.where(days == 2, np.minimum(hi_a, hi_b) > np.maximum(lo_a, lo_b), gap <= within_s))
    s, b, gap, days = s[timely], b[timely], gap[timely], days[timely]
    ap, am, ao = reps["p"][s], reps["m"][s], reps["o"][s]
    km = _km(R.lat[ap], R.lon[ap], R.lat[b], R.lon[b])
    gpa, gpb = R.gp[ap], R.gp[b]
    coarse = np.maximum(gpa, gpb)
    allowed = np.where(coarse == _GEO_EXACT, within_km, np.maximum(R.reach[ap], R.reach[b]))
    ok = km <= allowed
    mok, mrel = _munition_relation(R, am, b)
    ok &= mok
    if region:  # never by place alone: exact times close together and the same named munition
        ok &= (coarse < _GEO_REGION) | ((days == 0) & (gap <= within_s / 2) & (mrel == _MR_SAME)
                                        & (R.mkind[b] == _M_NAMED))
    else:
        ok &= coarse < _GEO_REGION
    idx = np.flatnonzero(ok)
    gap, days, km, coarse, allowed, mrel = gap[idx], days[idx], km[idx], coarse[idx], allowed[idx], mrel[idx]
    x = gap / within_s
    s_time = np.select([days == 0, days == 1], [1 - 0.5 * x ** 1.5, 0.8 - 0.3 * x], 0.65)
    d = km / allowed
    # within a settlement's reach every point is as likely (farther ones, if anything, more: more area)
    s_place = np.select([coarse == _GEO_EXACT, coarse == _GEO_SETTLEMENT], [1 - 0.5 * d ** 1.5, 0.8], 0.5)
    ao, b = ao[idx], b[idx]
    s_out = _OUT_SCORE[R.out[ao], R.out[b]] * _toll_factor(R.killed[ao], R.killed[b]) * _toll_factor(
        R.injured[ao], R.injured[b])
    score = s_time * s_place * _MR_SCORE[mrel] * s_out
    # kept compactly: a million reports a side give millions of candidate pairs
    return _Pairs(s[idx].astype(np.int32), b.astype(np.int32), score.astype(np.float32), gap.astype(np.int32),
                  km.astype(np.float32), mrel)


def _candidates(R: _Reports, reps: dict[str, np.ndarray], strikes: np.ndarray, rows: np.ndarray,
                within_s: float, within_km: float) -> _Pairs:
    """Scored candidate pairs between eligible strikes and eligible new reports, blocked."""
    half = int(within_s // 2) + 1
    at, ap = reps["t"][strikes], reps["p"][strikes]
    parts: list[_Pairs] = []
    if not len(strikes) or not len(rows):
        return _Pairs.empty()
    # bucket edges at 10:00 UTC, about noon in Kyiv, when few strikes happen
    first = min(int(R.t_lo[at].min()), int(R.t_lo[rows].min())) - 2 * half - 2 * 86400
    origin = first - (first - _BUCKET_OFFSET_S) % 86400
    # main pass: exact and settlement places, blocked by day and 10 km cell
    ls = strikes[R.gp[ap] < _GEO_REGION]
    rs = rows[R.gp[rows] < _GEO_REGION]
    if len(ls) and len(rs):
        lt, lp = reps["t"][ls], reps["p"][ls]
        lkey, lrow, lcorner = _spans(R.t_lo[lt] - half, R.t_hi[lt] + half, R.lat[lp], R.lon[lp], R.reach[lp],
                                     _BUCKET_S, _CELL_KM, origin)
        rkey, rrow, rcorner = _spans(R.t_lo[rs] - half, R.t_hi[rs] + half, R.lat[rs], R.lon[rs], R.reach[rs],
                                     _BUCKET_S, _CELL_KM, origin)
        for li, ri, key in _join(lkey, lrow, rkey, rrow):
            once = _first_shared(key, lcorner[li], rcorner[ri], extra=False)
            parts.append(_compare(R, reps, ls[li[once]], rs[ri[once]], within_s, within_km, region=False))
    # region pass: a region-precision place on either side; exact times, 2-hour buckets, 150 km
    # cells and the munition name as the block
    named_l = strikes[(R.mkind[reps["m"][strikes]] == _M_NAMED) & (R.tp[at] == _EXACT)]
    named_r = rows[(R.mkind[rows] == _M_NAMED) & (R.tp[rows] == _EXACT)]
    region_l = R.gp[reps["p"][named_l]] == _GEO_REGION
    region_r = R.gp[named_r] == _GEO_REGION
    if (region_l.any() and len(named_r)) or (region_r.any() and len(named_l)):
        bucket = max(int(within_s), 3600)
        lt, lp = reps["t"][named_l], reps["p"][named_l]
        # catalogue names as small codes for the key
        _, code = np.unique(np.concatenate([R.mname[reps["m"][named_l]], R.mname[named_r]]), return_inverse=True)
        code = code.astype(np.int64) & 0xFFF
        lkey, lrow, lcorner = _spans(R.t_lo[lt] - half, R.t_hi[lt] + half, R.lat[lp], R.lon[lp], R.reach[lp],
                                     bucket, _REGION_CELL_KM, origin, extra=code[:len(named_l)])
        rkey, rrow, rcorner = _spans(R.t_lo[named_r] - half, R.t_hi[named_r] + half, R.lat[named_r],
                                     R.lon[named_r], R.reach[named_r], bucket, _REGION_CELL_KM, origin,
                                     extra=code[len(named_l):])
        for li, ri, key in _join(lkey, lrow, rkey, rrow):
            once = _first_shared(key, lcorner[li], rcorner[ri], extra=True)
            li, ri = named_l[li[once]], named_r[ri[once]]
            either = (R.gp[reps["p"][li]] == _GEO_REGION) | (R.gp[ri] == _GEO_REGION)
            parts.append(_compare(R, reps, li[either], ri[either], within_s, within_km, region=True))
    return _Pairs.concat(parts)


# ------------------------------------------------------------------------------ assignment


def _assign(pairs: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one: indices of the pairs kept, and for each how much of its confidence the block
    would lose without it (1.0: nothing else could take its place; 0.0: a toss-up).

    Pairs alone in their block are kept as they are; a block with one strike or one report
    takes its best pair; every other block is solved for the largest summed confidence
    (Hungarian method), and each kept pair is weighed by solving the block again without it.
    Blocks of more than ``_SMALL_BLOCK`` strikes or reports (a crowded town on a crowded day)
    keep only the pairs that are the best of both their ends (see :func:`_solve_large`),
    weighed against the best other candidate of either (which errs towards a toss-up). Only
    pairs among the five best of both their strike and their report take part.
    """
    if not len(pairs.strike):
        return np.zeros(0, np.int64), np.zeros(0)
    # a pair outside the best few of either of its reports would hardly ever be chosen; left
    # in, such pairs chain a crowded town's day into one huge block
    top = np.flatnonzero(_top(pairs.strike, pairs.score) & _top(pairs.report, pairs.score))
    keep, margin = _assign_pairs(pairs.take(top))
    return top[keep], margin


def _top(node: np.ndarray, score: np.ndarray, k: int = 5) -> np.ndarray:
    """Whether each pair is among the ``k`` best of its ``node``."""
    order = np.lexsort((-score, node))
    sorted_node = node[order]
    first = np.r_[0, np.flatnonzero(sorted_node[1:] != sorted_node[:-1]) + 1]
    rank = np.arange(len(node)) - np.repeat(first, np.diff(np.r_[first, len(node)]))
    out = np.empty(len(node), bool)
    out[order] = rank < k
    return out


def _assign_pairs(pairs: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(pairs.strike):
        return np.zeros(0, np.int64), np.zeros(0)
    su, s = np.unique(pairs.strike, return_inverse=True)
    ru, r = np.unique(pairs.report, return_inverse=True)
    alone = (np.bincount(s)[s] == 1) & (np.bincount(r)[r] == 1)
    kept = [np.flatnonzero(alone)]
    margin = [np.ones(len(kept[0]))]
    rest = np.flatnonzero(~alone)
    if len(rest):
        ns = len(su)
        graph = coo_matrix((np.ones(len(rest)), (s[rest], ns + r[rest])), shape=(ns + len(ru),) * 2)
        _, label = connected_components(graph, directed=False)
        comp = label[s[rest]]
        order = np.lexsort((-pairs.score[rest], comp))  # by block, best first
        rest, comp = rest[order], comp[order]
        first = np.ones(len(rest), bool)
        first[1:] = comp[1:] != comp[:-1]
        start = np.flatnonzero(first)
        # strikes and reports numbered from 0 within each block (codes sort by block first)
        bounds = np.append(start, len(rest))
        block_of = np.repeat(np.arange(len(start)), np.diff(bounds))
        ls = np.unique(comp * (len(su) + 1) + s[rest], return_inverse=True)[1].ravel()
        lr = np.unique(comp * (len(ru) + 1) + r[rest], return_inverse=True)[1].ravel()
        ls = ls - np.minimum.reduceat(ls, start)[block_of]
        lr = lr - np.minimum.reduceat(lr, start)[block_of]
        n_s = np.maximum.reduceat(ls, start) + 1
        n_r = np.maximum.reduceat(lr, start) + 1
        # a block with one strike or one report (a star) is solved by its best pair
        star = (n_s == 1) | (n_r == 1)
        best, second = rest[start[star]], rest[start[star] + 1]
        kept.append(best)
        margin.append((pairs.score[best] - pairs.score[second]) / pairs.score[best])
        # two strikes and two reports: the best of the two ways to pair them, in closed form
        square = ~star & (n_s == 2) & (n_r == 2)
        if square.any():
            edges = np.repeat(square, np.diff(bounds))
            k, t = _solve_squares(block_of[edges], ls[edges], lr[edges], pairs.score[rest[edges]])
            kept.append(rest[edges][k])
            margin.append(t)
        small = ~star & ~square & (n_s <= _SMALL_BLOCK) & (n_r <= _SMALL_BLOCK)
        for i in np.flatnonzero(small):
            sl = slice(bounds[i], bounds[i + 1])
            k, t = _solve_block(ls[sl], lr[sl], pairs.score[rest[sl]], linear_sum_assignment)
            kept.append(rest[sl][k])
            margin.append(t)
        large = ~star & ~square & ~small
        if large.any():
            edges = rest[np.repeat(large, np.diff(bounds))]
            k, t = _solve_large(s[edges], r[edges], pairs.score[edges])
            kept.append(edges[k])
            margin.append(t)
    return np.concatenate(kept), np.concatenate(margin)


def _solve_squares(block: np.ndarray, s: np.ndarray, r: np.ndarray,
                   score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of two strikes and two reports (``s``, ``r`` in 0..1): the better of the two
    pairings, and what each kept pair's block loses without it, as a share of its confidence."""
    _, b = np.unique(block, return_inverse=True)
    matrix = np.zeros((b.max() + 1, 2, 2))
    where = np.full(matrix.shape, -1, np.int64)
    matrix[b, s, r] = score
    where[b, s, r] = np.arange(len(score))
    diagonal = matrix[:, 0, 0] + matrix[:, 1, 1]
    across = matrix[:, 0, 1] + matrix[:, 1, 0]
    kept, margin = [], []
    for use, total, other, cells in ((diagonal >= across, diagonal, across, ((0, 0), (1, 1))),
                                     (diagonal < across, across, diagonal, ((0, 1), (1, 0)))):
        for (i, j), (p, q) in zip(cells, reversed(cells)):
            take = use & (where[:, i, j] >= 0)
            # without this pair the block keeps the other pairing, or this pairing's other pair
            regret = total - np.maximum(other, matrix[:, p, q])
            kept.append(where[take, i, j])
            margin.append(regret[take] / matrix[take, i, j])
    return np.concatenate(kept), np.concatenate(margin)


def _solve_large(s: np.ndarray, r: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blocks too large to solve exactly (a crowded town on a crowded day): keep the pairs that
    are the best of both their strike and their report, each weighed against the best other
    candidate of either.

    Any one-to-one pairing in which each report gets its best partner keeps exactly these
    pairs, and a pair kept with a margin is one no other pairing could give either report a
    better partner for; everything else in such a block is too close to call.
    """
    second_s, best_s = _runner_up(s, score)
    second_r, best_r = _runner_up(r, score)
    chosen = np.flatnonzero(best_s & best_r)
    other = np.maximum(second_s, second_r)[chosen]
    return chosen, (score[chosen] - other) / score[chosen]


def _runner_up(node: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the best score of another pair of its ``node``, and whether it is its node's best."""
    order = np.lexsort((-score, node))
    sorted_node, sorted_score = node[order], score[order]
    first = np.r_[True, sorted_node[1:] != sorted_node[:-1]]
    head = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))  # each pair's node's first
    best = sorted_score[head]
    has_second = (head + 1 < len(order)) & ~np.r_[first[1:], True][head]
    second = np.where(has_second, sorted_score[np.minimum(head + 1, len(order) - 1)], 0.0)
    is_best = first.copy()
    out_other = np.where(is_best, second, best)
    other = np.empty(len(order))
    top = np.empty(len(order), bool)
    other[order] = out_other
    top[order] = is_best
    return other, top


def _solve_block(s: np.ndarray, r: np.ndarray, score: np.ndarray, lsa) -> tuple[np.ndarray, np.ndarray]:
    """Best one-to-one pairs of one block (strikes ``s`` and reports ``r`` numbered from 0; positions
    in the block) and the share of each pair's confidence the block loses without it."""
    matrix = np.zeros((int(s.max()) + 1, int(r.max()) + 1))
    where = np.full(matrix.shape, -1, np.int64)
    matrix[s, r] = score
    where[s, r] = np.arange(len(s))
    rows, cols = lsa(matrix, maximize=True)
    chosen = where[rows, cols] >= 0
    rows, cols = rows[chosen], cols[chosen]
    total = matrix[rows, cols].sum()
    margin = np.ones(len(rows))
    if len(rows) <= 40:
        for i, (a, b) in enumerate(zip(rows, cols)):
            saved = matrix[a, b]
            matrix[a, b] = 0.0
            r2, c2 = lsa(matrix, maximize=True)
            margin[i] = (total - matrix[r2, c2].sum()) / saved
            matrix[a, b] = saved
    else:  # large blocks: compare with the best other candidate of either end (errs towards toss-up)
        for i, (a, b) in enumerate(zip(rows, cols)):
            others = max(np.delete(matrix[a], b).max(initial=0.0), np.delete(matrix[:, b], a).max(initial=0.0))
            margin[i] = (matrix[a, b] - others) / matrix[a, b]
    return where[rows, cols], margin


# ------------------------------------------------------------------------------ decisions


def _ref(value: object, where: str) -> Ref:
    if isinstance(value, Mapping):
        source, event_id = value.get("source"), value.get("event_id")
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        source, event_id = value
    else:
        raise DataError(f"{where}: a report must be given as source and event_id, not {value!r}")
    if not isinstance(source, str) or not source or event_id is None or str(event_id) == "":
        raise DataError(f"{where}: a report needs a source name and an event id, got {value!r}")
    return source, str(event_id)


@dataclass(frozen=True)
class Decision:
    """One decision of the analyst.

    ``action`` is "confirm" (these reports are one strike, checked), "join" (these reports,
    two strikes the matching kept apart, are one strike) or "split" (each of ``reports`` is
    never put in one strike with any of ``others``).
    """

    action: str
    reports: tuple[Ref, ...]
    others: tuple[Ref, ...] = ()
    made_at: str = ""

    def to_dict(self) -> dict:
        out: dict = {"action": self.action,
                     "reports": [{"source": s, "event_id": e} for s, e in self.reports]}
        if self.others:
            out["others"] = [{"source": s, "event_id": e} for s, e in self.others]
        if self.made_at:
            out["made_at"] = self.made_at
        return out


@dataclass(frozen=True)
class MissingReport:
    """A report a decision names that is not among the open reports (deleted, or its id changed)."""

    decision: int  # position in Decisions.items
    action: str
    source: str
    event_id: str

    def __str__(self) -> str:
        return (f"decision {self.decision + 1} ({self.action}) names {self.source}:{self.event_id}, "
                f"which is no longer in {self.source}")


_ACTIONS = ("confirm", "join", "split")
_FORMAT = "mapviewer-match-decisions"


class Decisions:
    """The analyst's decisions on matches, kept as a small JSON file next to the data.

    Reports are named by (source name, event id), the source name being the key the data
    are matched under (the file name), so decisions survive reopening and re-importing.
    Later decisions win: joining reports undoes an earlier split between them, splitting a
    report takes it out of earlier confirmations and joins.
    """

    def __init__(self, items: Iterable[Decision] = ()) -> None:
        self.items: list[Decision] = []
        for d in items:
            self._add(d)

    def __len__(self) -> int:
        return len(self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decisions) and self.items == other.items

    def __repr__(self) -> str:
        return f"Decisions({self.items!r})"

    @staticmethod
    def _now() -> str:
        return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def confirm(self, reports: Iterable[Ref]) -> None:
        """The analyst checked these reports: one strike (kept together, confidence 1.0)."""
        refs = _distinct(reports, "confirm")
        self._add(Decision("confirm", refs, made_at=self._now()))

    def join(self, first: Iterable[Ref], second: Iterable[Ref] = ()) -> None:
        """Two strikes (their reports) are one strike."""
        refs = _distinct([*first, *second], "join")
        self._add(Decision("join", refs, made_at=self._now()))

    def split(self, report: Ref, others: Iterable[Ref]) -> None:
        """Take ``report`` out of its strike: never together with any of ``others`` again."""
        ref = _ref(report, "split")
        rest = tuple(o for o in (_ref(o, "split") for o in others) if o != ref)
        if not rest:
            raise DataError("split: name the reports the report is to be kept apart from")
        self._add(Decision("split", (ref,), rest, made_at=self._now()))

    def split_group(self, reports: Iterable[Ref]) -> None:
        """Every report of a group is a strike of its own."""
        refs = _distinct(reports, "split")
        self._add(Decision("split", refs, refs, made_at=self._now()))

    def _add(self, decision: Decision) -> None:
        if decision.action not in _ACTIONS:
            raise DataError(f"unknown decision {decision.action!r} (one of {', '.join(_ACTIONS)})")
        kept: list[Decision] = []
        if decision.action == "split":
            apart = _apart(decision)
            out = set(decision.reports)
            for d in self.items:  # earlier confirmations and joins lose the reports now split out
                if d.action == "split":
                    kept.append(d)
                    continue
                left = list(d.reports)
                while True:
                    clash = next((x for x in left if x in out and any((x, y) in apart for y in left)), None)
                    if clash is None:
                        break
                    left.remove(clash)
                if len(left) >= 2:
                    kept.append(d if len(left) == len(d.reports) else Decision(d.action, tuple(left), (), d.made_at))
        else:
            together = set(decision.reports)
            for d in self.items:  # an earlier split between reports now put together is undone
                if d.action != "split":
                    kept.append(d)
                    continue
                if not (together & set(d.reports) and together & set(d.others)):
                    kept.append(d)
                    continue
                for a in d.reports:
                    others = tuple(b for b in d.others if b != a and not (a in together and b in together))
                    if others:
                        kept.append(Decision("split", (a,), others, d.made_at))
        self.items = kept
        self.items.append(decision)

    # -- which reports the decisions name

    def refs(self) -> set[Ref]:
        """Every report any decision names."""
        return {r for d in self.items for r in (*d.reports, *d.others)}

    def missing(self, reports: Mapping[str, pd.DataFrame] | Mapping[str, Iterable[str]]) -> list[MissingReport]:
        """Reports the decisions name that are gone from their source.

        ``reports`` maps source names to frames (or to their event ids). Decisions naming a
        source that is not open are not listed: they apply when it is opened again.
        """
        ids: dict[str, set[str]] = {}
        for key, value in reports.items():
            column = value["event_id"] if isinstance(value, pd.DataFrame) else value
            ids[key] = {str(v) for v in pd.Series(column).dropna().tolist()}
        found = []
        for i, d in enumerate(self.items):
            for source, event_id in dict.fromkeys((*d.reports, *d.others)):
                if source in ids and event_id not in ids[source]:
                    found.append(MissingReport(i, d.action, source, event_id))
        return found

    # -- storage

    def to_dict(self) -> dict:
        return {"format": _FORMAT, "version": 1, "decisions": [d.to_dict() for d in self.items]}

    @classmethod
    def from_dict(cls, data: object, where: str = "decisions") -> Decisions:
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise DataError(f"{where}: not a match decisions file (no \"format\": \"{_FORMAT}\")")
        if data.get("version") != 1:
            raise DataError(f"{where}: decisions file version {data.get('version')!r} is not supported (1 is)")
        items = []
        for i, d in enumerate(data.get("decisions") or [], start=1):
            at = f"{where}: decision {i}"
            if not isinstance(d, Mapping) or d.get("action") not in _ACTIONS:
                raise DataError(f"{at}: action must be one of {', '.join(_ACTIONS)}")
            reports = tuple(_ref(r, at) for r in d.get("reports") or [])
            others = tuple(_ref(r, at) for r in d.get("others") or [])
            if not reports or (d["action"] == "split" and not others):
                raise DataError(f"{at}: names no reports")
            items.append(Decision(d["action"], reports, others, str(d.get("made_at") or "")))
        return cls(items)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Decisions:
        """Read a decisions file; a file that does not exist gives no decisions."""
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path.name}: cannot read the match decisions: {exc}") from exc
        return cls.from_dict(data, path.name)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the decisions as JSON (atomically: a crash never leaves half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def _distinct(reports: Iterable[Ref], action: str) -> tuple[Ref, ...]:
    refs = tuple(dict.fromkeys(_ref(r, action) for r in reports))
    if len(refs) < 2:
        raise DataError(f"{action}: name at least two reports")
    return refs


def _apart(decision: Decision) -> set[tuple[Ref, Ref]]:
    pairs = set()
    for a in decision.reports:
        for b in decision.others:
            if a != b:
                pairs.add((a, b))
                pairs.add((b, a))
    return pairs


@dataclass
class _Rules:
    """Decisions resolved to global report indices."""

    together: list[tuple[np.ndarray, bool]]  # (reports, confirmed) per confirm/join decision
    apart: dict[int, set[int]]  # report -> reports it must never share a strike with


def _rules(decisions: Decisions | None, R: _Reports) -> _Rules:
    if decisions is None or not len(decisions):
        return _Rules([], {})
    lookup: dict[str, pd.Index] = {}

    def index_of(refs: Iterable[Ref]) -> list[int]:
        found = []
        for source, event_id in refs:
            if source not in R.keys:
                continue
            i = R.keys.index(source)
            if source not in lookup:
                lookup[source] = pd.Index(R.frames[i]["event_id"].astype("object").map(
                    lambda v: None if v is None or v != v else str(v)))
            at = lookup[source].get_indexer_for([event_id])
            if len(at) and at[0] >= 0:
                found.append(int(R.start[i] + at[0]))  # a repeated id: its first row
        return found

    together, apart = [], {}
    for d in decisions.items:
        if d.action in ("confirm", "join"):
            idx = index_of(d.reports)
            if len(idx) >= 2:
                together.append((np.array(sorted(set(idx)), np.int64), d.action == "confirm"))
        else:
            for a in index_of(d.reports):
                for b in index_of(d.others):
                    if a != b:
                        apart.setdefault(a, set()).add(b)
                        apart.setdefault(b, set()).add(a)
    return _Rules(together, apart)


# ------------------------------------------------------------------------------ result


@dataclass
class Group:
    """Two or more reports taken for one strike.

    ``members`` are (source key, row position) pairs, in source order; ``confidence`` (0..1) is
    that of the weakest link; ``reasons`` say why, in words; ``strike`` is the strike id used
    in ``MatchResult.strike``; ``confirmed`` is True when the analyst confirmed every link.
    """

    members: list[tuple[str, int]]
    confidence: float
    reasons: list[str]
    strike: int = -1
    confirmed: bool = False


_FLAG_TOSSUP, _FLAG_CONFIRMED, _FLAG_JOINED = 1, 2, 4
_LINK_DTYPES = (("strike", np.int64), ("report", np.int64), ("rep_t", np.int64), ("rep_p", np.int64),
                ("rep_m", np.int64), ("rep_o", np.int64), ("score", float), ("gap", np.int64), ("km", float),
                ("mrel", np.int8), ("flags", np.int8))


@dataclass
class _Links:
    """One row per report that joined a strike (the strike's first report has none)."""

    strike: list[np.ndarray] = field(default_factory=list)
    report: list[np.ndarray] = field(default_factory=list)
    rep_t: list[np.ndarray] = field(default_factory=list)  # the strike's reports compared with, at the time
    rep_p: list[np.ndarray] = field(default_factory=list)
    rep_m: list[np.ndarray] = field(default_factory=list)
    rep_o: list[np.ndarray] = field(default_factory=list)
    score: list[np.ndarray] = field(default_factory=list)
    gap: list[np.ndarray] = field(default_factory=list)
    km: list[np.ndarray] = field(default_factory=list)
    mrel: list[np.ndarray] = field(default_factory=list)
    flags: list[np.ndarray] = field(default_factory=list)

    def record(self, pairs: _Pairs, reps: dict[str, np.ndarray], flags: int | np.ndarray) -> None:
        """Add pairs (strike, report), with what the strike was compared through at this moment."""
        s = pairs.strike
        columns = dict(strike=s, report=pairs.report, rep_t=reps["t"][s], rep_p=reps["p"][s], rep_m=reps["m"][s],
                       rep_o=reps["o"][s], score=pairs.score, gap=pairs.gap, km=pairs.km, mrel=pairs.mrel,
                       flags=np.broadcast_to(np.asarray(flags, np.int8), s.shape))
        for name, values in columns.items():
            getattr(self, name).append(np.asarray(values))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: self.array(name, dtype) for name, dtype in _LINK_DTYPES}

    def array(self, name: str, dtype) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


@dataclass
class MatchResult:
    """What :func:`match_reports` found.

    ``records``: reports read; ``events``: strikes after matching; ``strike``: per source key,
    the strike id (0..events-1) of each row, aligned with that frame's rows (positions, not
    index labels); ``groups``: the strikes told by two or more reports, in strike id order;
    ``matched``: reports in those groups ("N strikes from M reports (K matched)");
    ``possible``: toss-ups left apart for the analyst. ``ref``/``refs`` name reports as
    :class:`Decisions` do.
    """

    records: int
    events: int
    strike: dict[str, np.ndarray]
    _reports: _Reports = field(repr=False)
    _link: dict[str, np.ndarray] = field(repr=False)
    _maybe: dict[str, np.ndarray] = field(repr=False)
    within_hours: float = WITHIN_HOURS
    within_km: float = WITHIN_KM

    @property
    def matched(self) -> int:
        """Reports that share their strike with another report."""
        ids = np.concatenate(list(self.strike.values())) if self.strike else np.zeros(0, np.int64)
        counts = np.bincount(ids, minlength=self.events)
        return int(counts[counts >= 2].sum())

    def ref(self, member: tuple[str, int]) -> Ref:
        """(source key, event id) of a member, as decisions name it."""
        key, pos = member
        R = self._reports
        return key, _text(R.text("event_id")[R.start[R.index_of[key]] + pos])

    def refs(self, group: Group) -> list[Ref]:
        """The members of a group as decisions name them."""
        return [self.ref(m) for m in group.members]

    def members_of(self, strike: int) -> list[tuple[str, int]]:
        """Every report (source key, row position) of one strike."""
        return self._members_of(np.array([strike]))[0]

    @cached_property
    def _members(self) -> tuple[np.ndarray, np.ndarray]:
        """Global report indices sorted by strike, and the strike of each."""
        ids = np.concatenate(list(self.strike.values())) if self.strike else np.zeros(0, np.int64)
        order = np.argsort(ids, kind="stable")
        return order, ids[order]

    def _members_of(self, strikes: np.ndarray) -> list[list[tuple[str, int]]]:
        """The reports (source key, row position) of each of ``strikes``."""
        R = self._reports
        order, sorted_ids = self._members
        lo = np.searchsorted(sorted_ids, strikes, "left")
        hi = np.searchsorted(sorted_ids, strikes, "right")
        keys = np.array(R.keys, dtype=object)[R.source[order]].tolist()
        pos = R.pos[order].tolist()
        return [list(zip(keys[a:b], pos[a:b])) for a, b in zip(lo.tolist(), hi.tolist())]

    @cached_property
    def groups(self) -> list[Group]:
        """The strikes told by two or more reports, in strike id order."""
        with _no_gc():
            return self._groups()

    def _groups(self) -> list[Group]:
        R, L = self._reports, self._link
        if not len(L["strike"]):
            return []
        order = np.lexsort((L["report"], L["strike"]))
        reasons = _reason_lists(R, {k: v[order] for k, v in L.items()})
        strike = L["strike"][order]
        first = np.flatnonzero(np.r_[True, strike[1:] != strike[:-1]])
        bounds = np.r_[first, len(order)].tolist()
        members = self._members_of(strike[first])
        joining = [R.label(int(g)) for g in L["report"][order]] if len(order) else []
        score = L["score"][order].tolist()
        confirmed = ((L["flags"][order] & _FLAG_CONFIRMED) != 0).tolist()
        out = []
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            if len(members[i]) > 2:  # say which report each link brought in
                words = [f"{joining[j]}: " + "; ".join(reasons[j]) for j in range(a, b)]
            else:
                words = [w for j in range(a, b) for w in reasons[j]]
            out.append(Group(members[i], round(min(score[a:b]), 3), words, int(strike[a]), all(confirmed[a:b])))
        return out

    @cached_property
    def possible(self) -> list[Group]:
        """Toss-ups left apart for the analyst: a report that fits a strike, but fits another
        pairing almost as well. Each is the strike's reports and, last, the report (still a
        strike of its own); ``strike`` is the strike it might join. Lowest confidence first."""
        R, M = self._reports, self._maybe
        reasons = _reason_lists(R, M)
        members = self._members_of(M["strike"])
        out = []
        for j in range(len(M["strike"])):
            b, strike = int(M["report"][j]), int(M["strike"][j])
            key, pos = R.locate(b)
            if int(self.strike[key][pos]) == strike:
                continue
            group = [m for m in members[j] if m[0] != key] + [(key, pos)]
            out.append(Group(group, round(float(M["score"][j]), 3), reasons[j], strike))
        return sorted(out, key=lambda g: g.confidence)

    def to_json(self, names: Mapping[str, str] | None = None) -> dict:
        """``{"records", "events", "groups": [{"members": ["<file>:<event_id>", ...], "confidence",
        "reasons"}]}``: the ``mapviewer match --json`` output. ``names`` maps source keys to the
        file names shown (default: the keys)."""
        names = names or {}
        R = self._reports
        ids = R.text("event_id")
        start = {k: int(R.start[i]) for i, k in enumerate(R.keys)}
        return {
            "records": self.records,
            "events": self.events,
            "groups": [
                {"members": [f"{names.get(k, k)}:{_text(ids[start[k] + p])}" for k, p in g.members],
                 "confidence": g.confidence, "reasons": list(g.reasons)}
                for g in self.groups
            ],
        }


@contextmanager
def _no_gc():
    """Pause the cycle collector while building many small lists (none of them cyclic): with
    a million of them it would otherwise run over and over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _minutes(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes % 60 else f"{minutes // 60} h"


def _km_text(km: float) -> str:
    return f"{km:.1f} km" if km < 10 else f"{km:.0f} km"


def _text(value: object) -> str:
    return "" if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


def _reason_lists(R: _Reports, L: dict[str, np.ndarray]) -> list[list[str]]:
    """The reasons of each link, in words (column by column, for speed at a million links)."""
    n = len(L["strike"])
    if not n:
        return []
    b, at, ap, am, ao = (L[k] for k in ("report", "rep_t", "rep_p", "rep_m", "rep_o"))
    flags = L["flags"]
    # time
    gap = L["gap"]
    days = (R.tp[at] == _DAY).astype(np.int8) + (R.tp[b] == _DAY)
    span = {g: _minutes(g) for g in np.unique(gap).tolist()}
    time_words = [
        ("same time" if g < 30 else f"{span[g]} apart") if d == 0 else
        ("one report gives the day only" + (f", the other time is {span[g]} outside that day" if g >= 60 else ""))
        if d == 1 else "both give the day only"
        for g, d in zip(gap.tolist(), days.tolist())
    ]
    # place
    km = L["km"].tolist()
    gpa, gpb = R.gp[ap], R.gp[b]
    coarse = np.maximum(gpa, gpb).tolist()
    which = np.where(gpa >= gpb, ap, b)
    place = [_text(x) or _text(y) for x, y in zip(R.text("location")[which], R.text("admin1")[which])]
    both = (gpa == gpb).tolist()
    place_words = []
    for c, k, p, same in zip(coarse, km, place, both):
        if c == _GEO_EXACT:
            place_words.append("same place" if k < 0.05 else f"{_km_text(k)} apart")
            continue
        level = "settlement" if c == _GEO_SETTLEMENT else "region"
        head = f"both give the {level} only" if same else f"one report gives the {level} only"
        place_words.append(head + (f" ({p})" if p else "") + (f", {_km_text(k)} apart" if k >= 0.05 else ""))
    # munition
    munition = R.text("munition")
    munition_words = [_munition_words(R, munition, x, y, rel) for x, y, rel in
                      zip(am.tolist(), b.tolist(), L["mrel"].tolist())]
    # outcome and tolls
    oa, ob = R.out[ao].tolist(), R.out[b].tolist()
    ka, kb, ia, ib = (R.killed[ao].tolist(), R.killed[b].tolist(), R.injured[ao].tolist(), R.injured[b].tolist())
    out = []
    for j, f in enumerate(flags.tolist()):
        if f & _FLAG_CONFIRMED:
            out.append(["confirmed by the analyst"])
            continue
        if f & _FLAG_JOINED:
            out.append(["joined by the analyst"])
            continue
        words = [time_words[j], place_words[j], munition_words[j]]
        x, y = oa[j], ob[j]
        if x == y and x != _UNKNOWN_OUTCOME:
            words.append(f"same outcome ({OUTCOMES[x]})")
        elif _UNKNOWN_OUTCOME not in (x, y) and x != y:
            pair = f"{OUTCOMES[x]} / {OUTCOMES[y]}"
            words.append(f"outcomes disagree ({pair})" if _OUT_SCORE[x, y] < 0.8 else f"outcomes fit together ({pair})")
        for column, p, q in (("killed", ka[j], kb[j]), ("injured", ia[j], ib[j])):
            if p == p and q == q and (p > 0 or q > 0):  # both given (not NaN), someone hurt
                words.append(f"same toll ({p:.0f} {column})" if p == q else f"tolls differ ({p:.0f} / {q:.0f} {column})")
        if f & _FLAG_TOSSUP:
            words.append("another pairing fits almost as well")
        out.append(words)
    return out


def _munition_words(R: _Reports, written: np.ndarray, a: int, b: int, rel: int) -> str:
    ka, kb = int(R.mkind[a]), int(R.mkind[b])
    na, nb = int(R.mname[a]), int(R.mname[b])
    name = R.names[na] if na >= 0 else (R.names[nb] if nb >= 0 else "")
    if rel == _MR_SAME:
        return f"same munition ({name if ka != _M_OTHER else _text(written[a])})"
    if rel == _MR_SAME_DOUBTED:
        return f"same munition ({name}), one report doubts it" if ka != kb else \
            f"same munition ({name}), both reports doubt it"
    if rel == _MR_NONE:
        return "one report names no munition" if (ka == _M_NONE) != (kb == _M_NONE) else \
            "neither report names a munition"
    shared = _mask_words(int(R.mmask[a] & R.mmask[b]))
    if rel == _MR_DIFF_DOUBTED:
        return f"munitions differ ({_text(written[a])} / {_text(written[b])}), same class ({shared})"
    if rel == _MR_UNLISTED:
        return f"munition not in the catalogue ({_text(written[a] if ka == _M_OTHER else written[b])}), " \
               "class does not contradict"
    return f"munition class agrees ({shared})"


# ------------------------------------------------------------------------------ matching


def match_reports(
    reports: Mapping[str, gpd.GeoDataFrame],
    *,
    within_hours: float = WITHIN_HOURS,
    within_km: float = WITHIN_KM,
    decisions: Decisions | None = None,
    tz: str = DEFAULT_TZ,
    settlement_km: float | None = None,
) -> MatchResult:
    """Find the reports of different sources that tell the same strike.

    ``reports`` maps a source key (the file name: decisions name reports by it) to its
    canonical frame (as :func:`geodata.read_incidents` returns it). ``within_hours`` and
    ``within_km`` are the time and place tolerances for exact times and points;
    ``decisions`` are the analyst's; ``tz`` is the zone whose days a day-only date means;
    ``settlement_km`` replaces the settlement reach from the gazetteer by one fixed figure.
    See the module docstring for the rules.
    """
    if not within_hours > 0 or not within_km > 0:
        raise DataError("the match tolerances must be positive (hours and kilometres)")
    R = _reports(reports, tz, float(within_km), settlement_km)
    rules = _rules(decisions, R)
    within_s = float(within_hours) * 3600
    n = len(R)
    strike_of = np.full(n, -1, np.int64)
    reps = {k: np.zeros(0, np.int64) for k in "tpmo"}
    links, possible = _Links(), _Links()
    forced_with = _forced_partners(rules)
    for i in range(len(R.keys)):
        rows = np.arange(R.start[i], R.start[i] + len(R.frames[i]), dtype=np.int64)
        known = np.arange(len(reps["t"]), dtype=np.int64)
        taken = np.zeros(len(rows), bool)
        if len(known) and len(rows):
            busy, forced = _force(rows, strike_of, forced_with, rules)
            eligible = known[R.timed[reps["t"]] & R.placed[reps["p"]]]
            eligible = eligible[~np.isin(eligible, busy)]
            candidates = rows[R.timed[rows] & R.placed[rows] & ~np.isin(rows, forced[:, 1])]
            pairs = _drop_apart(_candidates(R, reps, eligible, candidates, within_s, float(within_km)), rules,
                                strike_of)
            keep, margin = _assign(pairs)
            clear = margin >= AMBIGUITY_MARGIN
            possible.record(pairs.take(keep[~clear]), reps, _FLAG_TOSSUP)
            chosen = pairs.take(keep[clear])
            links.record(chosen, reps, 0)
            if len(forced):  # the analyst's: confidence 1.0
                k = len(forced)
                links.record(_Pairs(forced[:, 0], forced[:, 1], np.ones(k), np.zeros(k, np.int64), np.zeros(k),
                                    np.zeros(k, np.int8)), reps, forced[:, 2])
            s = np.concatenate([chosen.strike, forced[:, 0]])
            b = np.concatenate([chosen.report, forced[:, 1]])
            # one report of this source per strike, one strike per report
            assert len(np.unique(s)) == len(s) and len(np.unique(b)) == len(b), "assignment is not one-to-one"
            strike_of[b] = s
            _update_reps(R, reps, s, b)
            taken[b - R.start[i]] = True
        fresh = rows[~taken]
        strike_of[fresh] = len(reps["t"]) + np.arange(len(fresh))
        for k in "tpmo":
            reps[k] = np.concatenate([reps[k], fresh])
    strike_of, link, maybe = _finish(rules, strike_of, links, possible)
    events = int(strike_of.max()) + 1 if n else 0
    per_source = {k: strike_of[R.start[i]:R.start[i] + len(R.frames[i])] for i, k in enumerate(R.keys)}
    return MatchResult(n, events, per_source, R, link, maybe, float(within_hours), float(within_km))


def _forced_partners(rules: _Rules) -> dict[int, list[tuple[int, int]]]:
    """report -> [(partner, flag)] for every confirm/join decision."""
    out: dict[int, list[tuple[int, int]]] = {}
    for members, confirmed in rules.together:
        flag = _FLAG_CONFIRMED if confirmed else _FLAG_JOINED
        for a in members:
            for b in members:
                if a != b:
                    out.setdefault(int(a), []).append((int(b), flag))
    return out


def _force(rows: np.ndarray, strike_of: np.ndarray, forced_with: dict[int, list[tuple[int, int]]],
           rules: _Rules) -> tuple[np.ndarray, np.ndarray]:
    """Reports of this source the analyst put with an earlier strike: (strikes taken, [strike, report, flag])."""
    if not forced_with:
        return np.zeros(0, np.int64), np.zeros((0, 3), np.int64)
    lo, hi = int(rows[0]), int(rows[-1])
    forced, busy = [], set()
    for b in sorted(g for g in forced_with if lo <= g <= hi):
        for partner, flag in forced_with[b]:
            s = int(strike_of[partner]) if partner < len(strike_of) else -1
            if s < 0 or s in busy:
                continue
            members = np.flatnonzero(strike_of == s)
            if any(int(m) in rules.apart.get(b, ()) for m in members):
                continue
            forced.append((s, b, flag))
            busy.add(s)
            break
    return np.array(sorted(busy), np.int64), np.array(forced, np.int64).reshape(-1, 3)


def _drop_apart(pairs: _Pairs, rules: _Rules, strike_of: np.ndarray) -> _Pairs:
    """Remove candidate pairs the analyst split."""
    if not rules.apart or not len(pairs.strike):
        return pairs
    width = len(strike_of) + 1
    banned = [int(strike_of[o]) * width + b for b, others in rules.apart.items() for o in others if strike_of[o] >= 0]
    if not banned:
        return pairs
    keep = ~np.isin(pairs.strike.astype(np.int64) * width + pairs.report, np.array(banned, np.int64))
    return pairs.take(np.flatnonzero(keep))


def _update_reps(R: _Reports, reps: dict[str, np.ndarray], s: np.ndarray, b: np.ndarray) -> None:
    """A strike is compared through its most precise time and place, its most specific munition and
    the first outcome stated."""
    t, p, m, o = reps["t"], reps["p"], reps["m"], reps["o"]
    better_t = R.t_rank[b] < R.t_rank[t[s]]
    t[s[better_t]] = b[better_t]
    better_p = R.p_rank[b] < R.p_rank[p[s]]
    p[s[better_p]] = b[better_p]
    better_m = R.mkind[b] > R.mkind[m[s]]
    m[s[better_m]] = b[better_m]
    better_o = (R.out[o[s]] == _UNKNOWN_OUTCOME) & (R.out[b] != _UNKNOWN_OUTCOME)
    o[s[better_o]] = b[better_o]


def _finish(rules: _Rules, strike_of: np.ndarray, links: _Links,
            possible: _Links) -> tuple[np.ndarray, dict, dict]:
    """Join the strikes the analyst joined that the folding could not (reports of one source),
    then number the strikes by their first report."""
    link, maybe = links.arrays(), possible.arrays()
    extra = []
    for members, confirmed in rules.together:
        for other in members[1:]:
            a, b = int(strike_of[members[0]]), int(strike_of[other])
            if a == b:
                continue
            keep, gone = min(a, b), max(a, b)
            joining = int(other) if b == gone else int(members[0])
            strike_of[strike_of == gone] = keep
            for table in (link, maybe):
                table["strike"][table["strike"] == gone] = keep
            extra.append((keep, joining, _FLAG_CONFIRMED if confirmed else _FLAG_JOINED))
    for s, b, flag in extra:
        row = dict(strike=s, report=b, rep_t=b, rep_p=b, rep_m=b, rep_o=b, score=1.0, gap=0, km=0.0, mrel=0, flags=flag)
        for name, dtype in _LINK_DTYPES:
            link[name] = np.append(link[name], np.array([row[name]], dtype=dtype))
    if not len(strike_of):
        return strike_of, link, maybe
    first = np.full(int(strike_of.max()) + 1, len(strike_of), np.int64)
    np.minimum.at(first, strike_of, np.arange(len(strike_of)))
    used = np.flatnonzero(first < len(strike_of))
    renumber = np.full(len(first), -1, np.int64)
    renumber[used[np.argsort(first[used], kind="stable")]] = np.arange(len(used))
    link["strike"] = renumber[link["strike"]]
    maybe["strike"] = renumber[maybe["strike"]]
    return renumber[strike_of], link, maybe


# ------------------------------------------------------------------------------ one row per strike

_TIME_RANK = {"exact": 0, "day": 1, "month": 2}
# when reports disagree on the outcome, the merged row keeps the most serious effect reported
_OUTCOME_RANK = np.array([0, 3, 2, 1, 4])  # impact, intercepted, deviated, debris, unknown


def merge_reports(reports: Mapping[str, gpd.GeoDataFrame], result: MatchResult,
                  names: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    """One row per strike (index ``strike``, the ids of ``result.strike``).

    Canonical columns taken from its reports: the most precise time (exact, then day, then
    month; ties: the first source), the most precise place (with its location and admin1),
    the most specific munition (a catalogue name, then a doubted name, then an unlisted one,
    then a class word; its class, or the class the reports agree on), the most serious
    outcome stated (impact, debris, deviated, intercepted), ``killed``/``injured`` the largest
    figure given, sources, links and notes of every report joined by "; ". Added:
    ``killed_min``, ``killed_max``, ``injured_min``, ``injured_max`` (range over the reports
    that give a figure; missing when none does), ``reports`` (how many), ``report_ids``
    ("file:event_id; ...", ``names`` mapping keys to file names), ``sources`` (the file
    names) and ``confidence`` (the strike's group confidence; missing for one report).
    """
    R = result._reports
    names = names or {}
    if list(reports) != R.keys or any(reports[k] is not f for k, f in zip(R.keys, R.frames)):
        raise DataError("merge_reports: give the same sources, in the same order, as to match_reports")
    n, events = len(R), result.events
    strike = np.concatenate([result.strike[k] for k in R.keys]) if n else np.zeros(0, np.int64)
    order = np.lexsort((np.arange(n), strike))  # by strike, then source and row order
    by_strike = strike[order]
    first = np.ones(n, bool)
    first[1:] = by_strike[1:] != by_strike[:-1]
    starts = np.flatnonzero(first)

    def pick(rank: np.ndarray) -> np.ndarray:
        """Per strike, its report of the lowest rank (ties: the earliest)."""
        ranked = np.lexsort((np.arange(n), rank, strike))
        chosen = np.empty(events, np.int64)
        chosen[strike[ranked][first]] = ranked[first]
        return chosen

    t_pick, p_pick = pick(R.t_rank), pick(R.p_rank)
    m_pick, o_pick = pick(-R.mkind.astype(np.int64)), pick(_OUTCOME_RANK[R.out])
    counts = np.bincount(strike, minlength=events)
    file_names = pa.DictionaryArray.from_arrays(
        pa.array(R.source, pa.int32()), pa.array([names.get(k, k) for k in R.keys], pa.large_string())
    ).cast(pa.large_string())
    label = pc.binary_join_element_wise(file_names, R.arrow("event_id").fill_null(""), pa.scalar(":", pa.large_string()))
    out = pd.DataFrame(index=pd.RangeIndex(events, name="strike"))
    out["event_id"] = _str_array(label.take(t_pick))
    when = np.concatenate([f["occurred_at"].array.as_unit("ns").asi8 for f in R.frames]) if n else np.zeros(0, np.int64)
    out["occurred_at"] = pd.DatetimeIndex(when[t_pick].view("datetime64[ns]")).tz_localize("UTC")
    out["time_precision"] = pd.Categorical.from_codes(np.where(R.tp < 0, -1, R.tp)[t_pick], dtype=TIME_PRECISION_DTYPE)
    x, y = (np.concatenate(c) for c in zip(*(lon_lat(f) for f in R.frames))) if n else (np.zeros(0), np.zeros(0))
    for column in ("location", "admin1"):
        out[column] = _str_array(R.arrow(column).take(p_pick))
    out["geo_precision"] = pd.Categorical.from_codes(R.gp[p_pick], dtype=GEO_PRECISION_DTYPE)
    out["munition"] = _str_array(R.arrow("munition").take(m_pick))
    out["munition_class"] = pd.Categorical(_strike_classes(R, order, starts, m_pick), dtype=MUNITION_CLASS_DTYPE)
    out["outcome"] = pd.Categorical.from_codes(R.out[o_pick], dtype=OUTCOME_DTYPE)
    for column, figures in (("killed", R.killed), ("injured", R.injured)):
        lo, hi = _ranges(figures, strike, events)
        out[column] = _int_array(hi)
        out[f"{column}_min"] = _int_array(lo)
        out[f"{column}_max"] = _int_array(hi)
    for column in ("source", "source_url", "notes"):
        out[column] = _joined(R.arrow(column).take(order), by_strike, events, distinct=True)
    out["reports"] = pd.array(counts, dtype="Int64")
    out["report_ids"] = _joined(label.take(order), by_strike, events, distinct=False)
    out["sources"] = _joined(file_names.take(order), by_strike, events, distinct=True)
    confidence = np.full(events, np.inf)
    link = result._link
    np.minimum.at(confidence, link["strike"], link["score"])
    out["confidence"] = np.where(np.isinf(confidence), np.nan, np.round(confidence, 3))
    columns = [*CANONICAL_COLUMNS, "killed_min", "killed_max", "injured_min", "injured_max", "reports",
               "report_ids", "sources", "confidence"]
    points = points_of(x[p_pick], y[p_pick])
    frame = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(points, crs="EPSG:4326", index=out.index), crs="EPSG:4326")
    return frame[columns]


def _str_array(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow text array as the readers' text column type."""
    return pd.arrays.ArrowStringArray(values.cast(pa.large_string())).astype("str")


def _joined(values: pa.Array, by_strike: np.ndarray, events: int, distinct: bool) -> pd.api.extensions.ExtensionArray:
    """Texts (in strike order) joined per strike with "; " (missing ones left out; missing when none;
    ``distinct``: each text once per strike)."""
    keep = values.is_valid().to_numpy(zero_copy_only=False)
    if distinct and len(values):
        codes = pc.dictionary_encode(values).indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        _, first = np.unique(by_strike * (codes.max() + 2) + codes + 1, return_index=True)
        once = np.zeros(len(values), bool)
        once[first] = True
        keep &= once
    counts = np.bincount(by_strike[keep], minlength=events)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), type=pa.int64())
    kept = values.filter(pa.array(keep)).cast(pa.large_string())
    joined = pc.binary_join(pa.LargeListArray.from_arrays(offsets, kept), pa.scalar("; ", pa.large_string()))
    return _str_array(pc.if_else(pa.array(counts > 0), joined, pa.scalar(None, pa.large_string())))


def _int_array(values: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _ranges(values: np.ndarray, strike: np.ndarray, events: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(events, np.inf)
    hi = np.full(events, -np.inf)
    given = ~np.isnan(values)
    np.minimum.at(lo, strike[given], values[given])
    np.maximum.at(hi, strike[given], values[given])
    none = np.isinf(lo)
    lo[none] = np.nan
    hi[none] = np.nan
    return lo, hi


def _strike_classes(R: _Reports, order: np.ndarray, starts: np.ndarray, m_pick: np.ndarray) -> np.ndarray:
    """The class every report's munition allows (when it is one class), else that of the most
    specific munition, else unknown."""
    if not len(order):
        return np.zeros(0, dtype=object)
    mask = np.bitwise_and.reduceat(R.mmask[order].astype(np.int64), starts)
    mask = np.where(mask == 0, R.mmask[m_pick], mask)
    values, inverse = np.unique(mask, return_inverse=True)
    names = np.array([_single_class(int(v)) or "unknown" for v in values], dtype=object)
    return names[inverse.ravel()]


@dataclass(frozen=True)
class CasualtyTotals:
    """Casualty totals over strikes: the sum of the smallest figures to the sum of the largest.

    ``killed_strikes``/``injured_strikes``: how many strikes give a figure.
    """

    killed_min: int
    killed_max: int
    injured_min: int
    injured_max: int
    killed_strikes: int
    injured_strikes: int

    @staticmethod
    def span(lo: int, hi: int) -> str:
        """"37" or "37-41"."""
        return f"{lo}" if lo == hi else f"{lo}-{hi}"

    def __str__(self) -> str:
        return f"killed {self.span(self.killed_min, self.killed_max)}, injured {self.span(self.injured_min, self.injured_max)}"


def casualty_totals(frame: pd.DataFrame) -> CasualtyTotals:
    """Totals over a merged frame (``killed_min``...) or over a frame of single reports
    (``killed``, ``injured``: then minimum and maximum are the same)."""

    def sums(column: str) -> tuple[int, int, int]:
        lo_col = f"{column}_min" if f"{column}_min" in frame.columns else column
        hi_col = f"{column}_max" if f"{column}_max" in frame.columns else column
        if lo_col not in frame.columns:
            return 0, 0, 0
        lo = pd.to_numeric(frame[lo_col], errors="coerce")
        hi = pd.to_numeric(frame[hi_col], errors="coerce")
        return int(lo.sum(skipna=True)), int(hi.sum(skipna=True)), int(hi.notna().sum())

    k_lo, k_hi, k_n = sums("killed")
    i_lo, i_hi, i_n = sums("injured")
    return CasualtyTotals(k_lo, k_hi, i_lo, i_hi, k_n, i_n)
