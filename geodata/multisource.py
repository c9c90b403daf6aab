"""Synthetic strikes told by three sources, with the truth known: for testing and measuring matching.

One set of invented strikes (places are real settlements of the GeoNames data the sample
uses, munitions and outcome rates those of :mod:`geodata.sample`) is reported by three
sources, each in its own way, as analysts meet them:

- ``cir.csv`` (a monitor that geolocates): exact times (a few minutes off) and points,
  sometimes only the settlement; munitions by name, sometimes an alias or a class word;
- ``bellingcat.csv`` (a civilian-harm collection): exact times up to an hour and a half
  off, or the day only, rarely the month only; exact points, the settlement, now and then
  the oblast only; aliases in Cyrillic, doubted names ("KN-23?"), class words, now and then
  the wrong munition of the same class; outcomes that disagree softly ("debris" for
  "intercepted", "impact" for "intercepted"); death tolls that grew later;
- ``acled.csv`` (an event dataset): the day only (a night strike now and then dated to the
  evening before), mostly the settlement's centre; class words ("ballistic missile",
  "drone"); fatalities only.

Each source has its own ids and its own missing fields, and reports only part of the
strikes. Near-misses are built in: the same city struck on other nights, other strikes the
same night tens of kilometres away, and several strikes on one city in one night.

The frames are made the way the readers make them (text cells through
:func:`geodata.normalize.build_frame`), so they are canonical frames as
:func:`geodata.read_incidents` returns them. ``truth`` gives the true strike of every row.
Every record is invented; notes start with "SYNTHETIC".
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.munitions import resolve_munition
from geodata.schema import DEFAULT_TZ, OUTCOMES

__all__ = ["SOURCES", "MultiSource", "PairQuality", "make_multisource", "pair_quality"]

#: Source keys (file names), in the order the frames come.
SOURCES: tuple[str, ...] = ("cir.csv", "bellingcat.csv", "acled.csv")
_SOURCE_TEXT = {
    "cir.csv": "CIR monitor (synthetic)",
    "bellingcat.csv": "Bellingcat civilian harm (synthetic)",
    "acled.csv": "ACLED (synthetic)",
}
# share of the strikes each source reports
_COVERAGE = {"cir.csv": 0.8, "bellingcat.csv": 0.6, "acled.csv": 0.6}
# words a source uses for a class instead of the munition's name
_CLASS_WORDS = {
    "ballistic missile": ("ballistic missile", "ballistic missiles", "балістична ракета"),
    "cruise missile": ("cruise missile", "крилата ракета"),
    "air-launched missile": ("missile",),
    "loitering munition": ("drone", "UAV", "БпЛА"),
    "decoy": ("drone",),
    "guided bomb": ("aerial bomb",),
    "surface-to-air missile": ("missile",),
    "rocket artillery": ("MLRS",),
}
_DOUBT = ("{}?", "possibly {}", "ймовірно {}")
# how strongly strikes gather on large towns (population to this power) and on wave nights
# (gamma shape of the nights' sizes: smaller, burstier)
_CONCENTRATION = 0.2
_WAVE_SHAPE = 3.0


@dataclass
class MultiSource:
    """Frames per source (canonical, rows in time order) and the true strike of every row.

    ``strikes`` holds the true strikes (index = strike id): local time, lat, lon, place,
    munition, outcome, killed, injured and ``kind`` ("base" or the near-miss it is).
    """

    frames: dict[str, gpd.GeoDataFrame]
    truth: dict[str, np.ndarray]
    strikes: pd.DataFrame


@dataclass(frozen=True)
class PairQuality:
    """Precision and recall of matched pairs (two reports put in one strike) against the truth.

    ``recall`` counts only the true pairs the rules allow to be found (neither report dated
    to the month only); ``recall_all`` counts every true pair.
    """

    found: int
    correct: int
    true: int
    true_matchable: int
    correct_matchable: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct_matchable / self.true_matchable if self.true_matchable else 1.0

    @property
    def recall_all(self) -> float:
        return self.correct / self.true if self.true else 1.0


def _pairs(*labels: np.ndarray) -> int:
    """Pairs of rows that share every label."""
    if not len(labels[0]):
        return 0
    _, counts = np.unique(np.column_stack(labels), axis=0, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pair_quality(data: MultiSource, strike: Mapping[str, np.ndarray]) -> PairQuality:
    """Compare predicted strike ids (``MatchResult.strike``) with the truth."""
    keys = list(data.frames)
    pred = np.concatenate([np.asarray(strike[k], np.int64) for k in keys])
    true = np.concatenate([data.truth[k] for k in keys])
    matchable = np.concatenate([(data.frames[k]["time_precision"] != "month").to_numpy() for k in keys])
    return PairQuality(
        found=_pairs(pred),
        correct=_pairs(pred, true),
        true=_pairs(true),
        true_matchable=_pairs(true[matchable]),
        correct_matchable=_pairs(pred[matchable], true[matchable]),
    )


# ------------------------------------------------------------------------------ the true strikes


def _reach_km(population: np.ndarray) -> np.ndarray:
    """How far from its centre a settlement's strikes fall (the matching's settlement reach, less a margin)."""
    return np.clip(0.8 * 3.0 * np.sqrt(population / 100_000), 1.0, 14.0)


def _in_disc(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, radius_km: np.ndarray):
    r = radius_km * np.sqrt(rng.random(len(lat)))
    a = rng.uniform(0, 2 * np.pi, len(lat))
    return lat + r * np.sin(a) / 110.574, lon + r * np.cos(a) / (111.32 * np.cos(np.radians(lat)))


def _towns():
    """The sample's settlements without the city districts GeoNames also lists as places (a place
    within the reach of a larger one, as :func:`geodata.gazetteer.settlements` decides)."""
    from geodata.sample import _places

    p = _places()
    order = np.argsort(-p.population, kind="stable")
    reach = 3.0 * np.sqrt(p.population / 100_000)
    kept: list[int] = []
    for i in order:
        if kept:
            k = np.array(kept)
            km = 111.2 * np.hypot(p.lat[k] - p.lat[i], (p.lon[k] - p.lon[i]) * np.cos(np.radians(p.lat[i])))
            if (km < reach[k]).any():
                continue
        kept.append(int(i))
    return p, np.array(sorted(kept))


def _neighbours(p, towns: np.ndarray, low_km: float, high_km: float):
    """Per place: the towns between ``low_km`` and ``high_km`` away, as (start, count, flat)."""
    lat, lon = p.lat[:, None], p.lon[:, None]
    km = 111.2 * np.hypot(p.lat[towns][None, :] - lat, (p.lon[towns][None, :] - lon) * np.cos(np.radians(lat)))
    near = (km >= low_km) & (km <= high_km)
    count = near.sum(axis=1)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return start, count, np.broadcast_to(towns, near.shape)[near]


def _strikes(rng: np.random.Generator, n: int, days: int, near_misses: float) -> pd.DataFrame:
    from geodata.sample import _FRONT_OBLASTS, _MUNITIONS, _OBLAST_WEIGHT, LAST_NIGHT

    p, towns = _towns()
    weights = np.array([m.weight for m in _MUNITIONS])
    n_base = max(1, int(round(n / (1 + near_misses * 1.17))))  # near-misses add about 1.17 strikes each
    which = rng.choice(len(_MUNITIONS), size=n_base, p=weights / weights.sum())
    front = np.array([m.front for m in _MUNITIONS])[which]
    base_w = np.zeros(len(p.lat))
    base_w[towns] = np.array([_OBLAST_WEIGHT.get(i, 0.2) for i in p.iso[towns]]) * p.population[towns] ** _CONCENTRATION
    front_w = base_w * np.isin(p.iso, list(_FRONT_OBLASTS))
    city = np.where(front, rng.choice(len(p.lat), n_base, p=front_w / front_w.sum()),
                    rng.choice(len(p.lat), n_base, p=base_w / base_w.sum()))
    nights = rng.gamma(_WAVE_SHAPE, size=days) * (rng.random(days) > 0.15) + 1e-3
    day = np.where(front, rng.integers(0, days, n_base), rng.choice(days, n_base, p=nights / nights.sum()))
    hour = np.where(front, rng.uniform(0, 24, n_base), np.clip(rng.normal(26.0, 2.2, n_base), 19.0, 31.5))
    minutes = (day * 1440 + hour * 60).astype(np.int64)

    lat, lon = _in_disc(rng, p.lat[city], p.lon[city], _reach_km(p.population[city]))

    # near-misses, made from some of the strikes: each kind a third
    k = int(round(n_base * near_misses))
    src = rng.choice(n_base, size=k)
    which_kind = rng.integers(0, 3, k)
    # (1) the same city on another night, one to five nights before or after
    a = src[which_kind == 0]
    shift = rng.choice([-1, 1], len(a)) * rng.integers(1, 6, len(a))
    other_night = (city[a], which[a], minutes[a] + shift * 1440 + rng.integers(-120, 121, len(a)),
                   *_in_disc(rng, p.lat[city[a]], p.lon[city[a]], _reach_km(p.population[city[a]])))
    # (2) the same night, in another town 15 to 60 km away
    b = src[which_kind == 1]
    start, count, flat = _neighbours(p, towns, 15.0, 60.0)
    b = b[count[city[b]] > 0]
    town = flat[start[city[b]] + (rng.random(len(b)) * count[city[b]]).astype(np.int64)]
    elsewhere = (town, which[b], minutes[b] + rng.integers(-90, 91, len(b)),
                 *_in_disc(rng, p.lat[town], p.lon[town], _reach_km(p.population[town])))
    # (3) one or two more strikes on the same town that night, half an hour to three hours
    # apart and at least 3 km away (another district, or the outskirts of a small town)
    c = np.repeat(src[which_kind == 2], rng.integers(1, 3, int((which_kind == 2).sum())))
    same = rng.random(len(c)) < 0.6
    munition = np.where(same, which[c], rng.choice(len(_MUNITIONS), len(c), p=weights / weights.sum()))
    dist = rng.uniform(3.0, np.maximum(4.0, 2 * _reach_km(p.population[city[c]])))
    angle = rng.uniform(0, 2 * np.pi, len(c))
    same_city = (city[c], munition, minutes[c] + rng.choice([-1, 1], len(c)) * rng.integers(30, 181, len(c)),
                 lat[c] + dist * np.sin(angle) / 110.574,
                 lon[c] + dist * np.cos(angle) / (111.32 * np.cos(np.radians(lat[c]))))
    parts = [(city, which, minutes, lat, lon)] + [other_night, elsewhere, same_city]
    city, which, minutes, lat, lon = (np.concatenate([np.asarray(part[i]) for part in parts]) for i in range(5))
    kind = np.concatenate([np.full(n_base, "base", dtype=object), np.full(len(a), "other night", dtype=object),
                           np.full(len(b), "same night, elsewhere", dtype=object),
                           np.full(len(c), "same city, same night", dtype=object)])
    m = len(city)

    first = np.datetime64(LAST_NIGHT - dt.timedelta(days=days), "m")
    local = first + minutes.astype("timedelta64[m]")
    rates = np.array([m_.rates for m_ in _MUNITIONS])
    outcome = np.zeros(m, np.int64)
    for w in np.unique(which):
        sel = np.flatnonzero(which == w)
        outcome[sel] = rng.choice(len(OUTCOMES), len(sel), p=rates[w] / rates[w].sum())
    cls = np.array([m_.munition_class for m_ in _MUNITIONS], dtype=object)[which]
    heavy = np.isin(cls, ["ballistic missile", "guided bomb", "air-launched missile"])
    hit = np.isin(outcome, [OUTCOMES.index("impact"), OUTCOMES.index("debris"), OUTCOMES.index("deviated")])
    hurt = hit & (rng.random(m) < np.where(heavy, 0.35, 0.12))
    killed = np.where(hurt & (rng.random(m) < 0.4), rng.geometric(np.where(heavy, 0.35, 0.6)), 0)
    injured = np.where(hurt, rng.geometric(np.where(heavy, 0.15, 0.35)), 0)
    order = np.argsort(local, kind="stable")
    frame = pd.DataFrame({
        "local": local, "lat": lat, "lon": lon, "city": city,
        "place": pd.Categorical(p.name[p.name_code[city]]), "admin1": pd.Categorical(p.oblast[p.oblast_code[city]]),
        "oblast": p.oblast_code[city], "population": p.population[city],
        "munition": pd.Categorical.from_codes(which, [m_.name for m_ in _MUNITIONS]),
        "munition_class": pd.Categorical(cls),
        "outcome": pd.Categorical.from_codes(outcome, list(OUTCOMES)), "killed": killed, "injured": injured,
        "kind": pd.Categorical(kind),
    }).iloc[order].reset_index(drop=True)
    frame.index.name = "strike"
    return frame


# ------------------------------------------------------------------------------ how each source tells them


def _pick(rng: np.random.Generator, n: int, shares: Mapping[str, float]) -> np.ndarray:
    names = list(shares)
    p = np.array([shares[k] for k in names], dtype=float)
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=p / p.sum())]


def _munition_words(rng: np.random.Generator, munition: np.ndarray, how: np.ndarray) -> np.ndarray:
    """The munition as a source writes it: name, alias, class word, doubted name or nothing."""
    out = np.full(len(munition), "", dtype=object)
    for name in np.unique(munition):
        entry = resolve_munition(name)
        rows = munition == name
        choices = {
            "name": (name,),
            "alias": entry.aliases or (name,),
            "class": _CLASS_WORDS[entry.munition_class],
            "doubted": tuple(form.format(name) for form in _DOUBT),
        }
        for h, words in choices.items():
            sel = np.flatnonzero(rows & (how == h))
            out[sel] = np.array(words, dtype=object)[rng.integers(0, len(words), len(sel))]
    return out


def _misnamed(rng: np.random.Generator, munition: np.ndarray, cls: np.ndarray, share: float) -> np.ndarray:
    """A share of the named munitions taken for another of the same class (Iskander-M for KN-23)."""
    from geodata.sample import _MUNITIONS

    by_class: dict[str, list[str]] = {}
    for m in _MUNITIONS:
        by_class.setdefault(m.munition_class, []).append(m.name)
    out = munition.copy()
    for i in np.flatnonzero(rng.random(len(munition)) < share):
        others = [n for n in by_class[cls[i]] if n != munition[i]]
        if others:
            out[i] = others[int(rng.integers(len(others)))]
    return out


def _report(rng: np.random.Generator, key: str, strikes: pd.DataFrame, ids: np.ndarray, tz: str) -> tuple[
        gpd.GeoDataFrame, np.ndarray]:
    from geodata.normalize import build_frame
    from geodata.report import LoadReport
    from geodata.sample import _places

    p = _places()  # the same table _towns() filters: indices agree
    s = strikes.iloc[ids]
    n = len(s)
    local = s["local"].to_numpy().astype("datetime64[m]")
    minute = np.timedelta64(1, "m")
    # --- time
    if key == "cir.csv":
        tprec = _pick(rng, n, {"exact": 0.95, "day": 0.05})
        jitter = np.rint(rng.normal(0, 4, n)).astype(np.int64)
    elif key == "bellingcat.csv":
        tprec = _pick(rng, n, {"exact": 0.70, "day": 0.27, "month": 0.03})
        jitter = np.rint(rng.normal(0, 10, n)).astype(np.int64)
        late = rng.random(n) < 0.05  # the time of the alert or of the first post, not of the strike
        jitter[late] += (rng.choice([-1, 1], late.sum()) * rng.integers(30, 91, late.sum()))
    else:
        tprec = np.full(n, "day", dtype=object)
        jitter = np.zeros(n, np.int64)
    told = local + jitter * minute
    day = local.astype("datetime64[D]")
    if key == "acled.csv":  # a night strike now and then dated to the evening before
        early = (local - day) < np.timedelta64(120, "m")
        day = np.where(early & (rng.random(n) < 0.2), day - np.timedelta64(1, "D"), day)
    when = np.where(tprec == "exact", np.datetime_as_string(told, unit="m"), np.datetime_as_string(day, unit="D"))
    month = tprec == "month"
    when[month] = np.datetime_as_string(day[month].astype("datetime64[M]").astype("datetime64[D]"), unit="D")
    # --- place
    if key == "cir.csv":
        gprec, sigma = _pick(rng, n, {"exact": 0.90, "settlement": 0.10}), 0.25
    elif key == "bellingcat.csv":
        gprec, sigma = _pick(rng, n, {"exact": 0.75, "settlement": 0.23, "region": 0.02}), 0.4
    else:
        gprec, sigma = _pick(rng, n, {"settlement": 0.55, "exact": 0.45}), 0.5
    lat = s["lat"].to_numpy() + rng.normal(0, sigma, n) / 110.574
    lon = s["lon"].to_numpy() + rng.normal(0, sigma, n) / (111.32 * np.cos(np.radians(s["lat"].to_numpy())))
    if key == "bellingcat.csv":  # geolocated to the wrong block now and then
        off = (rng.random(n) < 0.015) & (gprec == "exact")
        lat, lon = np.where(off, _in_disc(rng, lat, lon, np.full(n, 4.0))[0], lat), \
            np.where(off, _in_disc(rng, lat, lon, np.full(n, 4.0))[1], lon)
    city = s["city"].to_numpy()
    settle = gprec == "settlement"
    centre_sigma = 0.0 if key == "acled.csv" else 0.2  # another gazetteer's centre of the same town
    lat[settle] = p.lat[city[settle]] + rng.normal(0, centre_sigma, settle.sum()) / 110.574
    lon[settle] = p.lon[city[settle]] + rng.normal(0, centre_sigma, settle.sum()) / 111.32 / np.cos(
        np.radians(p.lat[city[settle]]))
    region = gprec == "region"
    oblast = s["oblast"].to_numpy()
    lat[region], lon[region] = p.centre_lat[oblast[region]], p.centre_lon[oblast[region]]
    location = np.where(region, s["admin1"].to_numpy(), s["place"].to_numpy())
    # --- munition
    munition = s["munition"].to_numpy()
    cls = s["munition_class"].to_numpy()
    if key == "cir.csv":
        how = _pick(rng, n, {"name": 0.70, "alias": 0.15, "class": 0.10, "none": 0.05})
    elif key == "bellingcat.csv":
        how = _pick(rng, n, {"name": 0.45, "alias": 0.20, "class": 0.15, "doubted": 0.10, "none": 0.10})
        munition = _misnamed(rng, munition, cls, 0.01)
    else:
        how = _pick(rng, n, {"class": 0.55, "name": 0.25, "none": 0.20})
    words = _munition_words(rng, munition, how)
    # --- outcome
    outcome = s["outcome"].to_numpy().copy()
    if key == "cir.csv":
        outcome[rng.random(n) < 0.03] = ""
    elif key == "bellingcat.csv":
        roll = rng.random(n)
        soft = {"intercepted": ("debris", "impact"), "impact": ("deviated", "debris"), "debris": ("intercepted",),
                "deviated": ("impact",), "unknown": ("unknown",)}
        for told, instead in soft.items():
            flip = np.flatnonzero((roll < 0.07) & (s["outcome"].to_numpy() == told))
            outcome[flip] = np.array(instead, dtype=object)[rng.integers(0, len(instead), len(flip))]
        outcome[(roll >= 0.07) & (roll < 0.12)] = ""
    else:
        outcome[rng.random(n) < 0.2] = ""
    # --- casualties
    killed = s["killed"].to_numpy().astype(float)
    injured = s["injured"].to_numpy().astype(float)
    if key == "cir.csv":
        gone = rng.random(n) < 0.10
        killed[gone] = injured[gone] = np.nan
    elif key == "bellingcat.csv":
        grew = (killed > 0) & (rng.random(n) < 0.3)
        killed[grew] += rng.integers(1, 3, grew.sum())
        gone = rng.random(n) < 0.2
        killed[gone] = injured[gone] = np.nan
    else:
        grew = (killed > 0) & (rng.random(n) < 0.2)
        killed[grew] += 1
        killed[rng.random(n) < 0.1] = np.nan
        injured[:] = np.nan
    # --- ids, in the source's own scheme
    if key == "cir.csv":
        event_id = np.char.add("CIR-", np.char.zfill(rng.permutation(n).astype(str), 6))
    elif key == "bellingcat.csv":
        event_id = np.char.add("CIVHARM", (10_000 + rng.choice(10 * n + 10, size=n, replace=False)).astype(str))
    else:
        event_id = np.char.add("UKR", (100_000 + np.arange(n) * 3 + rng.integers(0, 3, n)).astype(str))

    def counts(values: np.ndarray) -> np.ndarray:
        """Whole numbers as text, missing as None."""
        out = np.full(len(values), None, dtype=object)
        given = ~np.isnan(values)
        out[given] = values[given].astype(np.int64).astype(str)
        return out

    raw = pd.DataFrame({
        "event_id": event_id.astype(object),
        "occurred_at": when.astype(object),
        "time_precision": tprec,
        "latitude": np.round(lat, 5),
        "longitude": np.round(lon, 5),
        "location": location,
        "admin1": s["admin1"].to_numpy(),
        "geo_precision": gprec,
        "munition": words,
        "outcome": outcome,
        "killed": counts(killed),
        "injured": counts(injured),
        "source": _SOURCE_TEXT[key],
        "source_url": np.char.add(f"https://example.org/synthetic/{key.split('.')[0]}/", event_id).astype(object),
        "notes": "SYNTHETIC multi-source record (geodata.multisource); invented, describes no real attack",
    })
    raw = raw.replace({"": None})
    report = LoadReport(path=key, format="synthetic")
    frame = build_frame(raw, report, rows=np.arange(2, n + 2), tz=tz, geocode=False)
    if report.rows_rejected:
        raise AssertionError(f"{key}: {report.rows_rejected} synthetic rows rejected: {report.errors[:3]}")
    return frame, ids


def make_multisource(n_strikes: int = 2000, *, seed: int = 20250930, days: int = 730, near_misses: float = 0.15,
                     sources: Sequence[str] = SOURCES, coverage: Mapping[str, float] | None = None,
                     tz: str = DEFAULT_TZ) -> MultiSource:
    """About ``n_strikes`` invented strikes over ``days`` days told by the three :data:`SOURCES`.

    ``near_misses`` is the share of strikes that get a near-miss made from them (same city
    another night, same night tens of km away, or one to three more strikes on the same
    city that night). ``sources`` picks some of :data:`SOURCES` (in that order);
    ``coverage`` gives the share of the strikes a source reports (defaults: cir 0.8,
    bellingcat 0.6, acled 0.6). The same arguments give the same frames.
    """
    rng = np.random.default_rng(seed)
    strikes = _strikes(rng, n_strikes, days, near_misses)
    frames, truth = {}, {}
    unknown = [k for k in sources if k not in SOURCES]
    if unknown:
        raise ValueError(f"unknown sources {unknown}; choose from {SOURCES}")
    for key in sources:
        told = np.flatnonzero(rng.random(len(strikes)) < {**_COVERAGE, **(coverage or {})}[key])
        order = np.argsort(strikes["local"].to_numpy()[told], kind="stable")
        frame, ids = _report(rng, key, strikes, told[order], tz)
        frames[key], truth[key] = frame, ids.astype(np.int64)
    return MultiSource(frames, truth, strikes)

