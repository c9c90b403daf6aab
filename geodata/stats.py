"""Statistics for a (filtered) frame: what the summary panel and reports show."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata.schema import DEFAULT_TZ, MUNITION_CLASSES, OUTCOMES

__all__ = ["Summary", "repeated_events", "summarize"]

#: Key used for rows whose munition is missing.
NO_MUNITION = "(none)"


@dataclass(frozen=True)
class Summary:
    """Counts, rates and casualty totals for a set of events.

    Rates are over events with a known outcome (outcome other than "unknown"):
    ``interception_rate[m] = intercepted / known``; ``None`` when no event of
    ``m`` has a known outcome. Casualty totals count only the events that give a
    figure: ``killed_reported`` events gave a killed figure, the others are
    missing, not zero.
    """

    total: int
    by_munition: dict[str, int]  # most frequent first
    by_outcome: dict[str, int]  # every outcome, in OUTCOMES order
    by_class: dict[str, int]  # every class, in MUNITION_CLASSES order
    outcomes_by_munition: dict[str, dict[str, int]]  # munition -> every outcome
    known_outcome: dict[str, int]  # munition -> events with an outcome other than unknown
    interception_rate: dict[str, float | None]
    deviation_rate: dict[str, float | None]
    killed: int
    injured: int
    killed_reported: int  # events with a killed figure
    injured_reported: int  # events with an injured figure
    date_min: pd.Timestamp | None  # UTC
    date_max: pd.Timestamp | None
    tz: str = field(default=DEFAULT_TZ)

    @property
    def first_day(self) -> dt.date | None:
        """First event's date in the working time zone."""
        return None if self.date_min is None else self.date_min.tz_convert(self.tz).date()

    @property
    def last_day(self) -> dt.date | None:
        """Last event's date in the working time zone."""
        return None if self.date_max is None else self.date_max.tz_convert(self.tz).date()

    def to_dict(self) -> dict:
        """Plain JSON-ready values (times as ISO-8601 UTC text)."""
        def iso(ts: pd.Timestamp | None) -> str | None:
            return None if ts is None else ts.strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "total": self.total,
            "counts": {"munition": dict(self.by_munition), "outcome": dict(self.by_outcome),
                       "munition_class": dict(self.by_class)},
            "outcomes_by_munition": {k: dict(v) for k, v in self.outcomes_by_munition.items()},
            "interception_rate": dict(self.interception_rate),
            "deviation_rate": dict(self.deviation_rate),
            "killed": self.killed,
            "injured": self.injured,
            "killed_reported": self.killed_reported,
            "injured_reported": self.injured_reported,
            "date_min": iso(self.date_min),
            "date_max": iso(self.date_max),
        }


def _codes(column: pd.Series, categories: tuple[str, ...] | None) -> tuple[np.ndarray, list[str]]:
    """Integer codes and their labels; fixed ``categories`` first when given (-1 = missing)."""
    if categories is not None:
        if isinstance(column.dtype, pd.CategoricalDtype) and tuple(column.cat.categories) == categories:
            return column.cat.codes.to_numpy(), list(categories)
        codes = pd.Categorical(column, categories=list(categories)).codes
        return np.asarray(codes), list(categories)
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return np.asarray(codes), [str(u) for u in uniques]


def _total(column: pd.Series) -> tuple[int, int]:
    """(sum of the given figures, number of rows that give one)."""
    values = pd.to_numeric(column, errors="coerce")
    known = values.notna()
    return int(values[known].sum()), int(known.sum())


def summarize(frame: pd.DataFrame, *, tz: str = DEFAULT_TZ) -> Summary:
    """Summarise ``frame`` (usually ``frame[state.mask(frame)]``)."""
    n = len(frame)
    out_codes, _ = _codes(frame["outcome"], OUTCOMES)
    # Unrecognised or missing outcomes count as unknown (as the readers file them).
    out_codes = np.where(out_codes < 0, OUTCOMES.index("unknown"), out_codes)
    mun_codes, munitions = _codes(frame["munition"], None)
    if (mun_codes < 0).any():
        mun_codes = np.where(mun_codes < 0, len(munitions), mun_codes)
        munitions = [*munitions, NO_MUNITION]
    k = len(OUTCOMES)
    table = np.bincount(mun_codes * k + out_codes, minlength=len(munitions) * k).reshape(len(munitions), k)

    order = sorted(range(len(munitions)), key=lambda i: (-table[i].sum(), munitions[i]))
    by_munition = {munitions[i]: int(table[i].sum()) for i in order}
    outcomes_by_munition = {munitions[i]: dict(zip(OUTCOMES, map(int, table[i]))) for i in order}
    unknown = OUTCOMES.index("unknown")
    known = {munitions[i]: int(table[i].sum() - table[i, unknown]) for i in order}

    def rate(outcome: str) -> dict[str, float | None]:
        return {m: (outcomes_by_munition[m][outcome] / known[m] if known[m] else None) for m in by_munition}

    cls_codes, _ = _codes(frame["munition_class"], MUNITION_CLASSES)
    cls_codes = np.where(cls_codes < 0, MUNITION_CLASSES.index("unknown"), cls_codes)
    by_class = dict(zip(MUNITION_CLASSES, map(int, np.bincount(cls_codes, minlength=len(MUNITION_CLASSES)))))

    killed, killed_reported = _total(frame["killed"])
    injured, injured_reported = _total(frame["injured"])
    times = frame["occurred_at"]
    date_min = times.min() if n and times.notna().any() else None
    date_max = times.max() if n and times.notna().any() else None
    return Summary(
        total=n,
        by_munition=by_munition,
        by_outcome=dict(zip(OUTCOMES, map(int, table.sum(axis=0)))),
        by_class=by_class,
        outcomes_by_munition=outcomes_by_munition,
        known_outcome=known,
        interception_rate=rate("intercepted"),
        deviation_rate=rate("deviated"),
        killed=killed,
        injured=injured,
        killed_reported=killed_reported,
        injured_reported=injured_reported,
        date_min=date_min,
        date_max=date_max,
        tz=tz,
    )


def repeated_events(frame: pd.DataFrame, by: str = "dataset") -> np.ndarray:
    """For each row, the number of the event it shares with a row of another file, else -1.

    Rows of different files (``by``: the file each came from) with the same ``event_id`` at the
    same ``occurred_at`` are one event seen twice: they get the same number. Counting the rows of
    a view counts such an event once per file; ``len(g) - len(set(g))`` over the non-negative
    numbers ``g`` of the rows shown is how many rows too many. Rows with no id or no time never
    match; repeats within one file are its own load report's business.
    """
    n = len(frame)
    groups = np.full(n, -1, dtype=np.int64)
    if n == 0 or by not in frame.columns or "event_id" not in frame.columns:
        return groups
    files, _ = pd.factorize(frame[by])
    if files.max() <= 0:  # one file: nothing to share
        return groups
    ids, _ = pd.factorize(frame["event_id"].astype("string"))
    times = frame["occurred_at"].array.asi8
    usable = np.flatnonzero((ids >= 0) & (times != np.iinfo(np.int64).min))
    # sort by (id, time, file): an event's rows lie together, and a change of file inside them means two files
    order = usable[np.lexsort((files[usable], times[usable], ids[usable]))]
    k_id, k_time, k_file = ids[order], times[order], files[order]
    starts = np.r_[True, (k_id[1:] != k_id[:-1]) | (k_time[1:] != k_time[:-1])]
    event = np.cumsum(starts) - 1
    shared = np.unique(event[np.r_[False, (k_file[1:] != k_file[:-1]) & ~starts[1:]]])
    inside = np.isin(event, shared)
    groups[order[inside]] = np.searchsorted(shared, event[inside])
    return groups
