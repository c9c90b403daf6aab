"""Filters in words: the one sentence figures, the HTML export and the summary use.

``1 Jun 2025 – 30 Jun 2025 · ballistic missiles, Kh-101 · impact``
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence

import pandas as pd

from geodata.filters import FilterState, no_munition, tag_label
from geodata.schema import DEFAULT_TZ, MUNITION_CLASSES, OUTCOMES
from geodata.style import CLASS_STYLE

__all__ = ["describe_filter", "munition_classes_of"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date_words(value, tz: str) -> str:
    ts = pd.Timestamp(value)
    with_time = isinstance(value, dt.datetime) or (isinstance(value, str) and len(value.strip()) > 10)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz)
    text = f"{ts.day} {_MONTHS[ts.month - 1]} {ts.year}"
    if with_time and (ts.hour or ts.minute):
        text += f" {ts.hour:02d}:{ts.minute:02d}"
    return text


def _list_words(values: Iterable[str], order: Sequence[str] | None = None, most: int = 6) -> str:
    values = list(values)
    if order:
        values.sort(key=lambda v: (order.index(v) if v in order else len(order), v))
    else:
        values.sort(key=str.lower)
    if len(values) > most:
        return ", ".join(values[:most]) + f", … ({len(values)} in all)"
    return ", ".join(values)


def _catalogue_order() -> tuple[str, ...]:
    try:
        from geodata.munitions import munition_names

        return munition_names()
    except (ImportError, OSError, ValueError):  # no catalogue: alphabetical order
        return ()


def _class_plural(munition_class: str) -> str:
    """The class in running text, from the style table: "ballistic missiles", "loitering munitions (drones)"."""
    style = CLASS_STYLE.get(munition_class)
    return style.plural if style is not None else munition_class


def _grouped(chosen: Iterable[str], classes: dict[str, str] | None) -> tuple[list[str], list[str]]:
    """Chosen munitions as (whole classes in plural words, the other names in catalogue order).

    A class is named when every munition of it in the data is chosen and it has
    more than one (one munition: its name says more).
    """
    rest = set(chosen)
    words: list[str] = []
    if classes:
        members: dict[str, set[str]] = {}
        for name, munition_class in classes.items():
            members.setdefault(munition_class, set()).add(name)
        for munition_class in MUNITION_CLASSES:
            names = members.get(munition_class)
            if names and len(names) > 1 and names <= rest:
                words.append(_class_plural(munition_class))
                rest -= names
    order = _catalogue_order()
    return words, sorted(rest, key=lambda v: (order.index(v) if v in order else len(order), v.lower()))


def _most_kept(kept: int, left_out: int, kept_words: int, left_out_words: int) -> bool:
    """Whether "all … except …" reads better: most of the list is kept, listing it would take three
    words or more, and fewer words say what is not ("KN-23, Kh-101" stays as it is)."""
    return left_out > 0 and kept > left_out and kept_words >= 3 and left_out_words < kept_words


def _munition_words(chosen: Iterable[str], classes: dict[str, str] | None) -> str:
    """Chosen munitions in words: a class whose every munition in the data is chosen is named as the class,
    and when most are chosen, what is left out: "all munitions except Lancet".

    ``classes`` maps each munition in the data to its class ("ballistic missiles,
    cruise missiles" reads better under a title than twelve names).
    """
    chosen = set(chosen)
    named_classes = [c for c in MUNITION_CLASSES if c in chosen]  # whole classes the filter names
    if named_classes:
        chosen -= set(named_classes)
        chosen -= {m for m, c in (classes or {}).items() if c in named_classes}  # said by their class
        classes = {m: c for m, c in (classes or {}).items() if c not in named_classes} or None
    words, rest = _grouped(chosen, classes)
    words = [_class_plural(c) for c in named_classes] + words
    if classes and not named_classes:
        inside = chosen & set(classes)
        left_out = set(classes) - inside
        out_words, out_rest = _grouped(left_out, classes)
        if _most_kept(len(inside), len(left_out), len(words) + len(rest), len(out_words) + len(out_rest)):
            return "all munitions except " + ", ".join(out_words + out_rest)
    if len(rest) > 6:
        return ", ".join(words + rest[:6]) + f", … ({len(rest)} munitions in all)"
    return ", ".join(words + rest)


def _choice_words(chosen: Iterable[str], universe: Sequence[str], everything: str,
                  word=lambda v: v, order: Sequence[str] = ()) -> str:
    """A choice from a list (the classes in the data, the outcomes) in words, in ``order`` (else the
    list's); when most of the list is chosen, what is left out: "all outcomes except unknown"."""
    chosen = set(chosen)
    inside = [v for v in universe if v in chosen]
    left_out = [v for v in universe if v not in chosen]
    if inside and _most_kept(len(inside), len(left_out), len(inside), len(left_out)):
        return f"{everything} except " + ", ".join(word(v) for v in left_out)
    order = list(order or universe)
    return ", ".join(word(v) for v in sorted(chosen, key=lambda v: (order.index(v) if v in order else len(order), v)))


def munition_classes_of(frame: pd.DataFrame) -> dict[str, str]:
    """Each munition in ``frame`` and its class (what a munition filter chose from).

    Where the filters can choose the events naming no munition by class, each
    class having such events is listed under that choice's value too.
    """
    if not len(frame) or "munition" not in frame.columns or "munition_class" not in frame.columns:
        return {}
    pairs = frame[["munition", "munition_class"]].dropna().drop_duplicates("munition")
    out = {str(m): str(c) for m, c in zip(pairs["munition"], pairs["munition_class"])}
    unnamed = frame["munition"].isna().to_numpy()
    if unnamed.any():
        unnamed_classes = frame.loc[unnamed, "munition_class"].astype(object).fillna("unknown")
        for munition_class in MUNITION_CLASSES:
            if (unnamed_classes == munition_class).any():
                out[no_munition(munition_class)] = munition_class
    return out


def describe_filter(state: FilterState | None, frame: pd.DataFrame | None = None, *,
                    classes: dict[str, str] | None = None) -> str:
    """The filters and date range in words: ``1 Jun 2025 – 30 Jun 2025 · KN-23, Kh-101 · impact``.

    With no date filter, the date span of ``frame`` (the rows shown) is given.
    ``classes`` (munition -> class of all the data, see :func:`munition_classes_of`)
    lets whole classes chosen be named as classes.
    """
    tz = state.tz if state is not None else DEFAULT_TZ
    parts: list[str] = []
    start = state.start if state is not None else None
    end = state.end if state is not None else None
    if start is not None and end is not None:
        parts.append(f"{_date_words(start, tz)} – {_date_words(end, tz)}")
    elif start is not None:
        parts.append(f"from {_date_words(start, tz)}")
    elif end is not None:
        parts.append(f"until {_date_words(end, tz)}")
    elif frame is not None and len(frame) and frame["occurred_at"].notna().any():
        times = frame["occurred_at"].dropna()
        first, last = (t.tz_convert(tz).date() for t in (times.min(), times.max()))
        span = _date_words(first, tz) + ("" if first == last else f" – {_date_words(last, tz)}")
        parts.append(f"all dates ({span})")
    else:
        parts.append("all dates")
    if state is not None and state.munition_classes is not None:
        present = [c for c in MUNITION_CLASSES if c in set(classes.values())] if classes else list(MUNITION_CLASSES)
        parts.append(_choice_words(state.munition_classes, present, "all classes", _class_plural, MUNITION_CLASSES))
    if state is not None and state.munitions is not None:
        parts.append(_munition_words(state.munitions, classes))
    elif state is None or state.munition_classes is None:
        parts.append("all munitions")
    if state is not None and state.outcomes is not None:
        parts.append(_choice_words(state.outcomes, OUTCOMES, "all outcomes"))
    else:
        parts.append("all outcomes")
    if state is not None:
        if state.admin1 is not None:
            parts.append(_list_words(state.admin1))
        if state.tags is not None:
            by_column: dict[str, list[str]] = {}
            for column, value in sorted(state.tags):
                by_column.setdefault(column, []).append(value)
            parts.extend(f"{tag_label(c)}: {_list_words(v)}" for c, v in by_column.items())
        if state.text is not None:
            parts.append(f"text “{state.text}”")
        if state.bbox is not None:
            w, s, e, n = state.bbox
            parts.append(f"area {w:.2f}–{e:.2f} E, {s:.2f}–{n:.2f} N")
        if state.min_casualties is not None:
            parts.append(f"≥ {state.min_casualties} killed or injured")
    return " · ".join(parts)
