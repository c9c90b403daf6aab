"""ACLED exports (CSV or Excel): strike-like events, munition and outcome read from the notes.

Kept: sub-event types 'Air/drone strike', 'Shelling/artillery/missile attack' and
'Remote explosive/landmine/IED' (the last always class unknown). Other events (battles,
protests ...) are not strikes: each is listed in the report and not loaded.
ACLED time_precision 1 (the day) -> day; 2 (within a week) and 3 (within a month) ->
month. geo_precision 1/2/3 -> exact/settlement/region.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geodata.munitions import find_munitions, may_name_munitions
from geodata.normalize import outcome_words, outcomes_named_column
from geodata.readers import register
from geodata.readers.columns import header_key
from geodata.readers.delimited import read_delimited
from geodata.readers.excel import is_xlsx, read_excel, read_sheet_header
from geodata.readers.textfile import looks_binary
from geodata.report import LoadReport, LoadResult

STRIKE_TYPES = {
    "air/drone strike": "strike",
    "shelling/artillery/missile attack": "strike",
    "remote explosive/landmine/ied": "ied",
}
_REQUIRED = {"event_id_cnty", "event_date", "sub_event_type"}
_TIME_PRECISION = {"1": "day", "2": "month", "3": "month"}
_GEO_PRECISION = {"1": "exact", "2": "settlement", "3": "region"}
# Munition classes named in general words when no catalogue munition is named (English notes;
# RE2 patterns, matched a whole column at a time).
_CLASS_WORDS = [
    ("ballistic missile", r"\bballistic\b"),
    ("cruise missile", r"\bcruise missiles?\b"),
    ("guided bomb", r"\b(guided|glide|gliding) (aerial )?bombs?\b"),
    ("loitering munition", r"\b(loitering munitions?|kamikaze drones?|shahed\w*)\b"),
    ("rocket artillery", r"\b(mlrs|multiple rocket launchers?)\b"),
]


def _is_acled_header(names: list[str]) -> bool:
    return _REQUIRED <= {header_key(n) for n in names}


def _sniff(path: Path, head: bytes) -> bool:
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                if not any(n.startswith("xl/workbook") for n in z.namelist()):
                    return False
        except (zipfile.BadZipFile, OSError):
            return False
        return _is_acled_header(read_sheet_header(path))
    if looks_binary(head):
        return False
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    return all(name in first for name in _REQUIRED)


def _code_text(values: pd.Series) -> pd.Series:
    """Precision codes as text ("1", not "1.0"); missing stays missing."""
    text = values.astype("str").where(values.notna()).str.strip()
    return text.str.replace(r"\.0$", "", regex=True)


def _from_notes(notes: pd.Series, kinds: np.ndarray) -> tuple[list[object], list[object], list[object], np.ndarray]:
    """Munition, class and outcome named in each event's notes (vectorised where it can be), and
    which notes say an interception failed ("Kh-22 not intercepted")."""
    strike = kinds == "strike"
    text = notes.astype("str").where(notes.notna()) if len(notes) else pd.Series([], dtype="str")
    candidates = may_name_munitions(text) & strike if len(text) else np.zeros(0, bool)
    munitions: list[object] = [None] * len(text)
    classes: list[object] = ["unknown" if not s else None for s in strike]
    values = text.tolist()
    for i in np.flatnonzero(candidates):
        found = find_munitions(values[i])
        if found:
            munitions[i] = found[0].name
    if len(text):
        low = pc.utf8_lower(pa.array(text.array))
        unnamed = strike & np.array([m is None for m in munitions])
        for cls, pattern in reversed(_CLASS_WORDS):  # reversed: the first listed class wins
            said = pc.match_substring_regex(low, pattern).fill_null(False).to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(said & unnamed):
                classes[i] = cls
    named = outcomes_named_column(text) if len(text) else {}
    outcomes = np.full(len(text), "unknown", dtype=object)
    failed = named.pop("failed", np.zeros(len(text), bool))
    if named:
        count = sum(v.astype(int) for v in named.values())
        for outcome in ("impact", "intercepted", "deviated"):
            outcomes[named[outcome] & (count == 1)] = outcome
        # debris wins: "debris of a shot-down drone fell" is a debris event; several others
        # ("most intercepted, one hit") leave the notes unable to tell
        outcomes[named["debris"]] = "debris"
        # a failed interception is an impact only when the notes clearly say it hit
        outcomes[failed & (outcomes != "impact")] = "unknown"
    return munitions, classes, outcomes.tolist(), failed


def _say_outcomes(notes: pd.Series, outcomes: list[object], failed: np.ndarray, rows: np.ndarray,
                  column: str | None, report: LoadReport) -> None:
    """Each outcome read from the notes is said on its row, with the words it was read from:
    nothing is read as intercepted (or anything else) silently."""
    values = notes.tolist()
    for i in np.flatnonzero(failed | (np.array(outcomes, dtype=object) != "unknown")):
        text, outcome = str(values[i]), outcomes[i]
        if failed[i]:
            words = outcome_words(text, "failed")
            hit = f", then {outcome_words(text, 'impact')!r}" if outcome == "impact" else ""
            how = (f"outcome {words!r}{hit} read as {outcome} (from the notes: an interception that failed or "
                   "did not happen is never read as intercepted)")
        else:
            how = f"outcome {outcome_words(text, outcome)!r} read as {outcome} (from the notes)"
        report.add(int(rows[i]), column, how, "warning")


def transform(table: pd.DataFrame, rows: np.ndarray, report: LoadReport) -> tuple[pd.DataFrame, np.ndarray]:
    """ACLED columns to canonical ones; non-strike events are set aside and listed."""
    by_key = {header_key(c): c for c in table.columns}
    col = lambda key: table[by_key[key]] if key in by_key else pd.Series(np.nan, index=table.index)  # noqa: E731
    sub = col("sub_event_type").astype("str").str.strip()
    kinds = sub.str.casefold().map(STRIKE_TYPES).to_numpy()
    strike = pd.notna(kinds)
    if (~strike).any():
        for r, value in zip(rows[~strike].tolist(), sub[~strike].tolist()):
            report.add(int(r), by_key.get("sub_event_type"),
                       f"sub_event_type {value!r} is not a strike event: not loaded")
        report.rows_read += int((~strike).sum())
        report.rows_rejected += int((~strike).sum())
        table, rows, kinds = table[strike].reset_index(drop=True), rows[strike], kinds[strike]
    notes = col("notes")
    munitions, classes, outcomes, failed = _from_notes(notes, kinds)
    _say_outcomes(notes, outcomes, failed, rows, by_key.get("notes"), report)
    tp, gp = _code_text(col("time_precision")), _code_text(col("geo_precision"))
    geo = gp.map(_GEO_PRECISION)
    out = pd.DataFrame({
        "event_id": col("event_id_cnty"),
        "occurred_at": col("event_date"),  # '2024-06-02' or '02 June 2024': read by the shared date checks
        "time_precision": tp.map(_TIME_PRECISION),
        "latitude": col("latitude"),
        "longitude": col("longitude"),
        "location": col("location"),
        "admin1": col("admin1"),
        "geo_precision": geo.where(geo.notna(), gp),  # an unknown code stays, to be reported
        "munition": pd.Series(munitions, dtype="str"),
        "munition_class": pd.Series(classes, dtype="str"),
        "outcome": pd.Series(outcomes, dtype="str"),
        "killed": col("fatalities"),
        "source": col("source"),
        "notes": notes,
    })
    if tp.isin(["2", "3"]).any():
        report.add(None, "time_precision", "ACLED time precision 2 (within a week) and 3 (within a month) "
                   "are stored as month", "warning")
    used = {"event_id_cnty", "event_date", "time_precision", "latitude", "longitude", "location", "admin1",
            "geo_precision", "fatalities", "source", "notes"}
    for c in table.columns:
        if header_key(c) not in used:
            out[c] = table[c].to_numpy() if table[c].dtype == object else table[c].array
    return out, rows


def _read(path: str | Path, **options: object) -> LoadResult:
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(8)
    if is_xlsx(p, head):
        options.pop("encoding", None)
        return read_excel(p, format_name="acled", transform=transform, **options)
    return read_delimited(p, format_name="acled", transform=transform, **options)


def _register() -> None:
    register("acled", _sniff, _read)


_register()
