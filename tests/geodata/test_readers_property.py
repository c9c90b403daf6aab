"""Properties: every row is accounted for, any text table loads or raises DataError, times match a loop."""
from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import read_incidents

GOOD_DATES = st.sampled_from(["2024-06-02", "2024-06-02 01:30", "02.06.2024", "2024-06-02T01:30:00Z", "2023-12"])
BAD_DATES = st.sampled_from(["", "yesterday", "2024-13-01", "31.02.2024", "2024-06-02 25:00"])
GOOD_LAT = st.floats(min_value=45.0, max_value=52.0, allow_nan=False).map(lambda v: f"{v:.5f}")
BAD_LAT = st.sampled_from(["", "abc", "148.2", "-95", "n/a"])
LON = st.floats(min_value=23.0, max_value=40.0, allow_nan=False).map(lambda v: f"{v:.5f}")
MUNITION = st.sampled_from(["KN-23", "Герань-2", "kh101", "", "Unheard-of 7"])
OUTCOME = st.sampled_from(["hit", "збито", "debris", "", "perhaps"])

ROW = st.tuples(st.booleans(), GOOD_DATES, BAD_DATES, st.booleans(), GOOD_LAT, BAD_LAT, LON, MUNITION, OUTCOME)


@settings(max_examples=40, deadline=None)
@given(st.lists(ROW, min_size=0, max_size=25))
def test_every_row_is_loaded_or_rejected_and_listed(rows) -> None:
    expected_good: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["event_id", "date", "lat", "lon", "munition", "outcome"])
            for i, (date_ok, good_date, bad_date, lat_ok, good_lat, bad_lat, lon, munition, outcome) in enumerate(rows):
                writer.writerow([f"id{i}", good_date if date_ok else bad_date, good_lat if lat_ok else bad_lat,
                                 lon, munition, outcome])
                if date_ok and lat_ok:
                    expected_good.append(i + 2)  # header is row 1
        result = read_incidents(path)
    report = result.report
    report.check()
    assert report.rows_read == len(rows)
    assert report.rows_loaded + report.rows_rejected == report.rows_read
    assert list(result.frame.index) == expected_good
    rejected = set(range(2, len(rows) + 2)) - set(expected_good)
    assert report.rows_rejected == len(rejected)
    # each rejected row is listed with at least one error naming its row and a column
    assert {p.row for p in report.errors} == rejected
    assert all(p.column for p in report.errors)
    # unknown munitions are kept verbatim and flagged, on every row that has one
    unknown = {i + 2 for i, r in enumerate(rows) if r[7] == "Unheard-of 7"}
    assert {p.row for p in report.warnings if p.column == "munition"} == unknown
    kept_unknown = result.frame.index.isin(sorted(unknown))
    assert (result.frame.loc[kept_unknown, "munition"] == "Unheard-of 7").all()
    assert (result.frame.loc[kept_unknown, "munition_class"] == "unknown").all()


CELL = st.one_of(
    st.sampled_from(["", " ", "2024-06-02", "02/06/2024", "50.4", "30,5", "KN-23", "hit", '"', "\n", ";", "\t",
                     "999", "-1", "1e400", "nan", "NA", "°"]),
    st.text(max_size=6),
)
HEADER = st.lists(st.sampled_from(["date", "lat", "lon", "id", "munition", "outcome", "killed", "x", "y", "time",
                                   "geo_precision", "time_precision", "event_id", "", "lat"]), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(HEADER, st.lists(st.lists(CELL, max_size=9), max_size=8), st.sampled_from([",", ";", "\t"]),
       st.sampled_from(["utf-8", "cp1251", "utf-8-sig"]))
def test_any_text_table_loads_or_raises_data_error(header, rows, delimiter, encoding) -> None:
    from geodata import DataError

    text = delimiter.join(header) + "\n" + "\n".join(delimiter.join(r) for r in rows)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "any.csv"
        path.write_bytes(data)
        try:
            result = read_incidents(path)
        except DataError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc)
            return
    result.report.check()
    assert len(result.frame) == result.report.rows_loaded


LAYOUTS = {
    "iso": ("%Y-%m-%d %H:%M", 0),
    "iso-t-seconds": ("%Y-%m-%dT%H:%M:%S", 0),
    "dotted": ("%d.%m.%Y %H:%M", 0),
    "dotted-day": ("%d.%m.%Y", 1),
    "slash-day-first": ("%d/%m/%Y %H:%M", 0),
    "iso-day": ("%Y-%m-%d", 1),
}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2035, 12, 31)),
                       st.sampled_from(sorted(LAYOUTS))), min_size=1, max_size=30),
    st.booleans(),
)
def test_times_match_a_plain_loop(values, one_layout) -> None:
    """Every layout, alone (fast paths) or mixed (value by value), gives the instant a person means."""
    from geodata.timeparse import parse_times

    if one_layout:
        values = [(when, values[0][1]) for when, _ in values]
    # a slash date is read day first when the data cannot tell; make sure it can (a day above 12)
    values = [(w.replace(day=13) if name.startswith("slash") else w, name) for w, name in values]
    text = pd.Series([w.strftime(LAYOUTS[name][0]) for w, name in values])
    parsed = parse_times(text, tz="Europe/Kyiv")
    for i, (when, name) in enumerate(values):
        layout, precision = LAYOUTS[name]
        local = pd.Timestamp(dt.datetime.strptime(when.strftime(layout), layout))
        expected = local.tz_localize("Europe/Kyiv", ambiguous=True, nonexistent="shift_forward")
        assert parsed.utc[i] == expected.tz_convert("UTC"), (text[i], name)
        assert parsed.precision[i] == precision
    assert not parsed.bad.any()


# Pieces that trouble text readers: quotes, bare CR, mixed line ends, NUL, BOMs, delimiters.
PIECE = st.sampled_from(list('ab,;\t|"\r\n =1.\x00') + ["lat", "lon", "date", "2024-01-01", "50.1", "30.2", "Київ",
                                                         "\ufeff", '""', '"x\r=1"', "\r\n"])
HEADS = st.sampled_from(["", "lat,lon,date\n", "date;lat;lon\r\n", '"lat","lon","date"\r', "date\tlat\tlon\n"])
QUOTED_TEXT = st.tuples(HEADS, st.lists(PIECE, max_size=50).map("".join)).map("".join)
ANY_BYTES = st.one_of(
    st.binary(max_size=300),
    QUOTED_TEXT.map(lambda t: t.encode("utf-8")),
    QUOTED_TEXT.map(lambda t: t.encode("cp1251", "replace")),
    QUOTED_TEXT.map(lambda t: t.encode("utf-16")),
)


@settings(max_examples=150, deadline=None)
@given(ANY_BYTES)
def test_any_bytes_load_or_raise_data_error(data: bytes) -> None:
    """Whatever a file holds, reading and previewing it gives a result or one DataError, never a crash."""
    from geodata import DataError, LoadResult
    from geodata.readers.preview import preview_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        for read in (lambda: read_incidents(path), lambda: read_incidents(path, format="csv"),
                     lambda: preview_table(path)):
            try:
                result = read()
            except DataError as exc:
                assert str(path) in str(exc) and "\n" not in str(exc)
                continue
            if isinstance(result, LoadResult):
                result.report.check()
                assert len(result.frame) == result.report.rows_loaded


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECE, max_size=80).map("".join))
def test_delimiter_sniffer_takes_any_text(text: str) -> None:
    from geodata.readers.textfile import DELIMITERS, sniff_delimiter

    assert sniff_delimiter(text) in DELIMITERS
