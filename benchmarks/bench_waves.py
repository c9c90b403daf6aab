"""Wave funnel speed: 100,000 synthetic events joined with 2,000 attack waves (target: under 50 ms median).

    python benchmarks/bench_waves.py [--events 100000] [--waves 2000] [--runs 30]

Times ``geodata.waves.wave_funnel`` (what the waves panel runs on every filter
change) for a few filters, against the earlier implementation kept below as a
reference (it checked every event against every wave window), and checks that
both give the same table. Wall-clock and CPU medians; CPU time shows less of
other programs on a busy machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics

import numpy as np
import pandas as pd

from geodata import FilterState
from geodata.sample import make_sample
from geodata.schema import MUNITION_CLASS_DTYPE, TIME_PRECISION_DTYPE
from geodata.waves import FUNNEL_COLUMNS, wave_funnel, wave_mask
from timing import line, times  # benchmarks/timing.py

TARGET_MS = 50.0

# (munition, canonical names, class) of the synthetic waves; several-munition waves as in the reports.
_WAVE_MUNITIONS = [
    ("Shahed-136 / Shahed-131", ("Shahed-136", "Shahed-131"), "loitering munition"),
    ("Shahed-136", ("Shahed-136",), "loitering munition"),
    ("Gerbera", ("Gerbera",), "decoy"),
    ("KN-23", ("KN-23",), "ballistic missile"),
    ("9M723 Iskander-M", ("9M723 Iskander-M",), "ballistic missile"),
    ("Kh-101 / Kh-555", ("Kh-101", "Kh-555"), "cruise missile"),
    ("Kh-101", ("Kh-101",), "cruise missile"),
    ("3M-14 Kalibr", ("3M-14 Kalibr",), "cruise missile"),
    ("Kh-47M2 Kinzhal", ("Kh-47M2 Kinzhal",), "ballistic missile"),
    ("Kh-22", ("Kh-22",), "air-launched missile"),
    ("Kh-59", ("Kh-59",), "cruise missile"),
    ("Orlan-10", (), "unknown"),
]


def make_waves(events: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic waves over the events' period: overnight windows of 1-14 hours, a tenth whole days."""
    rng = np.random.default_rng(seed)
    first, last = events["occurred_at"].min(), events["occurred_at"].max()
    span = (last - first).total_seconds()
    starts = first + pd.to_timedelta(rng.uniform(0, span, n), unit="s").round("min")
    hours = rng.uniform(1, 14, n)
    day = rng.random(n) < 0.1
    starts = starts.where(~day, starts.floor("D")).as_unit("ns")
    ends = starts + pd.to_timedelta(np.where(day, 24 * 3600 - 1, hours * 3600), unit="s")
    which = rng.integers(0, len(_WAVE_MUNITIONS), n)
    launched = rng.integers(1, 120, n)
    intercepted = (launched * rng.uniform(0.5, 1.0, n)).astype(int)
    not_reached = ((launched - intercepted) * rng.uniform(0, 0.7, n)).astype(int)
    frame = pd.DataFrame({
        "wave_id": [f"bench-{i + 2}" for i in range(n)],
        "occurred_at": starts,
        "time_end": ends,
        "time_precision": pd.Categorical(np.where(day, "day", "exact"), dtype=TIME_PRECISION_DTYPE),
        "munition": [_WAVE_MUNITIONS[i][0] for i in which],
        "munition_names": [_WAVE_MUNITIONS[i][1] for i in which],
        "munition_class": pd.Categorical([_WAVE_MUNITIONS[i][2] for i in which], dtype=MUNITION_CLASS_DTYPE),
        "launched": pd.array(launched, dtype="Int64"),
        "intercepted": pd.array(intercepted, dtype="Int64"),
        "not_reached": pd.array(not_reached, dtype="Int64"),
    }, index=pd.RangeIndex(2, n + 2, name="row"))
    frame["impact"] = frame["launched"] - frame["intercepted"] - frame["not_reached"]
    return frame


# -- the earlier implementation, kept here only as the reference ---------------------------------


def reference_funnel(waves: pd.DataFrame, events: pd.DataFrame | None = None,
                     filter_state: FilterState | None = None) -> pd.DataFrame:
    """The funnel as first written: every event checked against every wave window."""
    keep = wave_mask(waves, filter_state)
    chosen = waves.loc[keep]
    table = pd.DataFrame(index=pd.Index([], name="munition"), columns=list(FUNNEL_COLUMNS))
    if chosen.empty:
        return table
    still = chosen["still_attacking"] if "still_attacking" in chosen.columns else pd.Series(0, index=chosen.index)
    chosen = chosen.assign(not_reached=chosen["not_reached"].fillna(0), still_attacking=still.fillna(0))
    grouped = chosen.groupby("munition", sort=False, observed=True)
    sums = grouped[["launched", "intercepted", "not_reached", "still_attacking", "impact"]].sum(min_count=1)
    table = pd.DataFrame({
        "munition_class": grouped["munition_class"].first().astype(str),
        "waves": grouped.size(),
        "launched": sums["launched"].astype("Int64"),
        "intercepted": sums["intercepted"].astype("Int64"),
        "not_reached": sums["not_reached"].astype("Int64"),
        "still_attacking": sums["still_attacking"].astype("Int64"),
        "impacts": sums["impact"].astype("Int64"),
    })
    table.index.name = "munition"
    geolocated = {m: 0 for m in table.index}
    geolocated_impacts = dict(geolocated)
    if events is not None and len(events):
        # the date range picks the waves; their whole windows count
        ev = events.loc[filter_state.mask(events, skip="date")] if filter_state is not None else events
        for munition, group in chosen.groupby("munition", sort=False, observed=True):
            names = {n for tup in group["munition_names"] for n in tup}
            hit = _reference_hits(ev, names, group)
            geolocated[munition] = int(hit.sum())
            if "outcome" in ev.columns:
                geolocated_impacts[munition] = int((hit & (ev["outcome"] == "impact").to_numpy(dtype=bool)).sum())
    table["geolocated"] = pd.Series(geolocated, dtype="Int64")
    table["geolocated_impacts"] = pd.Series(geolocated_impacts, dtype="Int64")
    return table.sort_values("launched", ascending=False, kind="stable", na_position="last")


def _reference_hits(events: pd.DataFrame, names: set[str], waves: pd.DataFrame) -> np.ndarray:
    hit = np.zeros(len(events), dtype=bool)
    if not names:
        return hit
    same = events["munition"].isin(list(names)).to_numpy(dtype=bool)
    if not same.any():
        return hit
    times = events["occurred_at"].array.as_unit("ns").asi8
    if "time_precision" in events.columns:
        precision = events["time_precision"].astype(str).to_numpy()
    else:
        precision = np.full(len(events), "exact")
    valid = same & ~events["occurred_at"].isna().to_numpy() & (precision != "month")
    day = np.int64(86_400 * 10**9)
    ev_start = times
    ev_end = np.where(precision == "day", times + day - 1, times)
    starts = waves["occurred_at"].array.as_unit("ns").asi8
    ends = waves["time_end"].array.as_unit("ns").asi8
    for lo, hi in zip(starts, ends):
        hit |= valid & (ev_start <= hi) & (ev_end >= lo)
    return hit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--waves", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reference-runs", type=int, default=5, help="runs of the slow reference")
    args = parser.parse_args(argv)

    events = make_sample(seed=1, n=args.events, days=730)
    waves = make_waves(events, args.waves)
    # Day-precision events make the day-overlap rule part of what is timed and checked.
    day = np.random.default_rng(1).random(len(events)) < 0.2
    events["time_precision"] = events["time_precision"].mask(day, "day")
    print(f"{len(events):,} events ({int(day.sum()):,} made day-precision), {len(waves):,} waves")

    first_day = events["occurred_at"].min().tz_convert("Europe/Kyiv").date()
    filters = {
        "no filter": FilterState(),
        "one year": FilterState(start=first_day + dt.timedelta(days=200), end=first_day + dt.timedelta(days=565)),
        "drones only": FilterState(munitions={"Shahed-136", "Shahed-131"}),
        "impacts only": FilterState(outcomes={"impact"}),
    }
    failed = False
    for name, state in filters.items():
        new = wave_funnel(waves, events, state)
        old = reference_funnel(waves, events, state)
        same = new.equals(old)
        failed |= not same
        print(f"\n{name}: {len(new)} munitions, {int(new['geolocated'].sum()):,} geolocated events in windows; "
              f"same table as the reference: {same}")
        print(line("  reference (every event x every wave)", times(
            lambda s=state: reference_funnel(waves, events, s), args.reference_runs), width=40))
        measured = times(lambda s=state: wave_funnel(waves, events, s), args.runs)
        print(line("  wave_funnel", measured, width=40))
        failed |= statistics.median(measured[1]) >= TARGET_MS
    print(f"\ntarget: wave_funnel CPU median under {TARGET_MS:.0f} ms for every filter, same tables: "
          f"{'met' if not failed else 'NOT met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
