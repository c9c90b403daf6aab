"""Timeline bins, precision spreading and playback frames, checked against plain loops."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata import FilterState
from geodata.errors import DataError
from geodata.schema import MUNITION_CLASS_DTYPE, MUNITION_CLASSES, OUTCOME_DTYPE, OUTCOMES, TIME_PRECISION_DTYPE
from geodata.timeline import (
    TimelineIndex,
    bin_edges,
    choose_bin,
    date_range_ns,
    frame_filter,
    parse_duration,
    playback_frames,
)

KYIV = ZoneInfo("Europe/Kyiv")
UTC = dt.timezone.utc
BASE = dt.datetime(2024, 3, 1, tzinfo=UTC)  # the span crosses the March daylight-saving change


def make_frame(rows: list[tuple[dt.datetime, str, str, str]]) -> pd.DataFrame:
    """A frame with the timeline's columns: (time, precision, outcome, class) per row."""
    return pd.DataFrame({
        "occurred_at": pd.to_datetime([r[0] for r in rows], utc=True).as_unit("ns"),
        "time_precision": pd.Categorical([r[1] for r in rows], dtype=TIME_PRECISION_DTYPE),
        "outcome": pd.Categorical([r[2] for r in rows], dtype=OUTCOME_DTYPE),
        "munition_class": pd.Categorical([r[3] for r in rows], dtype=MUNITION_CLASS_DTYPE),
        "munition": ["KN-23" if r[3] == "ballistic missile" else "Shahed-136" for r in rows],
    })


def local_span(t: dt.datetime, precision: str) -> tuple[dt.datetime, dt.datetime]:
    """The local day or month an imprecise time stands for, by calendar arithmetic."""
    local = t.astimezone(KYIV)
    if precision == "day":
        first = dt.datetime(local.year, local.month, local.day, tzinfo=KYIV)
        last = first.date() + dt.timedelta(days=1)
    else:
        first = dt.datetime(local.year, local.month, 1, tzinfo=KYIV)
        last = (first.date().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first.astimezone(UTC), dt.datetime(last.year, last.month, last.day, tzinfo=KYIV).astimezone(UTC)


def loop_counts(rows, keep, edges_ns, by: str) -> np.ndarray:
    """Expected stacked counts, one event and one bin at a time."""
    cats = OUTCOMES if by == "outcome" else MUNITION_CLASSES
    edges = [dt.datetime.fromtimestamp(e / 1e9, UTC) for e in edges_ns]
    out = np.zeros((len(edges) - 1, len(cats)))
    for (t, precision, outcome, cls), kept in zip(rows, keep):
        if not kept:
            continue
        j = cats.index(outcome if by == "outcome" else cls)
        if precision == "exact":
            for i in range(len(edges) - 1):
                if edges[i] <= t < edges[i + 1]:
                    out[i, j] += 1
            continue
        a, b = local_span(t, precision)
        for i in range(len(edges) - 1):
            overlap = (min(b, edges[i + 1]) - max(a, edges[i])).total_seconds()
            if overlap > 0:
                out[i, j] += overlap / (b - a).total_seconds()
    return out


event = st.tuples(
    st.integers(0, 80 * 24 * 60).map(lambda m: BASE + dt.timedelta(minutes=m)),
    st.sampled_from(["exact", "exact", "day", "month"]),
    st.sampled_from(OUTCOMES),
    st.sampled_from(MUNITION_CLASSES),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(event, min_size=1, max_size=25), unit=st.sampled_from(["hour", "day", "week", "month"]),
       by=st.sampled_from(["outcome", "class"]), data=st.data())
def test_bin_counts_equal_filtered_counts_from_a_plain_loop(rows, unit, by, data):
    frame = make_frame(rows)
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows))))
    hist = TimelineIndex.from_frame(frame).histogram(keep, unit, by)
    expected = loop_counts(rows, keep, hist.edges, by)
    np.testing.assert_allclose(hist.counts, expected, atol=1e-9)
    assert hist.counts.sum() == pytest.approx(keep.sum())


def test_day_precision_event_adds_a_24th_to_each_hour_of_its_day():
    # 2024-05-10 in Kyiv (UTC+3) is 2024-05-09 21:00 .. 2024-05-10 21:00 UTC.
    frame = make_frame([(dt.datetime(2024, 5, 9, 21, tzinfo=UTC), "day", "impact", "cruise missile"),
                        (dt.datetime(2024, 5, 10, 6, 30, tzinfo=UTC), "exact", "impact", "cruise missile")])
    hist = TimelineIndex.from_frame(frame).histogram(None, "hour")
    spread = hist.spread[:, 0]
    assert np.count_nonzero(spread) == 24
    np.testing.assert_allclose(spread[spread > 0], 1 / 24)
    exact = hist.counts[:, 0] - spread
    assert exact.sum() == pytest.approx(1) and np.count_nonzero(exact > 1e-9) == 1
    # The exact event's hour holds it and the day's share.
    assert hist.counts[:, 0].max() == pytest.approx(1 + 1 / 24)


def test_day_precision_on_a_daylight_saving_day_is_spread_over_23_hours():
    # 2024-03-31 in Kyiv has 23 hours (clocks go forward).
    frame = make_frame([(dt.datetime(2024, 3, 30, 22, tzinfo=UTC), "day", "debris", "decoy")])
    hist = TimelineIndex.from_frame(frame).histogram(None, "hour")
    values = hist.counts[:, OUTCOMES.index("debris")]
    assert np.count_nonzero(values) == 23
    np.testing.assert_allclose(values[values > 0], 1 / 23)


def test_month_precision_event_is_spread_over_the_days_of_its_month():
    frame = make_frame([(dt.datetime(2024, 4, 15, tzinfo=UTC), "month", "unknown", "unknown")])
    hist = TimelineIndex.from_frame(frame).histogram(None, "day")
    values = hist.counts[:, -1]
    assert np.count_nonzero(values) == 30
    np.testing.assert_allclose(values[values > 0], 1 / 30)
    monthly = TimelineIndex.from_frame(frame).histogram(None, "month")
    assert monthly.counts[:, -1].tolist() == [1.0]
    assert monthly.spread.sum() == 1  # still marked as imprecise


def test_day_bins_start_at_local_midnight():
    # 23:30 UTC on 9 May is 02:30 on 10 May in Kyiv: it belongs to 10 May.
    frame = make_frame([(dt.datetime(2024, 5, 9, 23, 30, tzinfo=UTC), "exact", "impact", "decoy")])
    hist = TimelineIndex.from_frame(frame).histogram(None, "day")
    first = pd.Timestamp(hist.edges[0], tz="UTC").tz_convert("Europe/Kyiv")
    assert (first.date(), first.hour) == (dt.date(2024, 5, 10), 0)


def test_window_keeps_bins_overlapping_the_range():
    frame = make_frame([(BASE + dt.timedelta(days=d), "exact", "impact", "decoy") for d in range(10)])
    hist = TimelineIndex.from_frame(frame).histogram(None, "day")
    part = hist.window(hist.edges[3], hist.edges[5])
    assert len(part.counts) == 2 and part.edges[0] == hist.edges[3] and part.edges[-1] == hist.edges[5]


def test_rows_without_time_or_in_an_empty_frame_are_not_counted():
    frame = make_frame([(BASE, "exact", "impact", "decoy")])
    frame.loc[0, "occurred_at"] = pd.NaT
    assert TimelineIndex.from_frame(frame).histogram(None, "day").counts.sum() == 0
    assert TimelineIndex.from_frame(frame.iloc[:0]).histogram(None, "day").counts.shape == (0, 5)


def test_choose_bin_from_span():
    assert choose_bin(2 * 86400) == "hour"
    assert choose_bin(120 * 86400) == "day"
    assert choose_bin(3 * 365 * 86400) == "week"
    assert choose_bin(30 * 365 * 86400) == "month"


def test_bin_edges_cover_the_range_with_calendar_months():
    lo = pd.Timestamp("2024-01-15", tz="UTC").value
    hi = pd.Timestamp("2024-03-02", tz="UTC").value
    edges = pd.to_datetime(bin_edges(lo, hi, "month"), utc=True).tz_convert("Europe/Kyiv")
    assert [e.strftime("%Y-%m-%d %H") for e in edges] == ["2024-01-01 00", "2024-02-01 00", "2024-03-01 00",
                                                           "2024-04-01 00"]


# -- playback -----------------------------------------------------------------

def _days(frames):
    return [(a.strftime("%m-%d"), b.strftime("%m-%d")) for a, b in frames]


def test_playback_steps_one_day_at_a_time():
    frames = playback_frames(dt.date(2024, 3, 29), dt.date(2024, 4, 1), "1d")
    assert _days(frames) == [("03-29", "03-30"), ("03-30", "03-31"), ("03-31", "04-01"), ("04-01", "04-02")]
    # Across the daylight-saving change, frames still start at local midnight.
    assert all(a.hour == 0 and b.hour == 0 for a, b in frames)


def test_playback_moving_window_is_clipped_at_the_start():
    frames = playback_frames(dt.date(2024, 1, 1), dt.date(2024, 1, 10), "1d", window="7d")
    assert len(frames) == 10
    assert _days(frames[:2]) == [("01-01", "01-02"), ("01-01", "01-03")]
    assert _days(frames[-1:]) == [("01-04", "01-11")]


def test_playback_cumulative_always_starts_at_the_start():
    frames = playback_frames("2024-01-01", "2024-01-21", "1w", cumulative=True)
    assert _days(frames) == [("01-01", "01-08"), ("01-01", "01-15"), ("01-01", "01-22")]


def test_playback_hour_steps_and_skip_empty():
    start = pd.Timestamp("2024-01-01 00:00", tz="UTC")
    times = [start + pd.Timedelta(minutes=90), start + pd.Timedelta(hours=5)]
    frames = playback_frames(start, start + pd.Timedelta(hours=6), "1h", times=times)
    assert len(frames) == 6
    kept = playback_frames(start, start + pd.Timedelta(hours=6), "1h", skip_empty=True, times=times)
    assert [(a - start) / pd.Timedelta(hours=1) for a, _ in kept] == [1.0, 5.0]


def test_bad_durations_are_reported():
    assert parse_duration("7d") == pd.Timedelta(days=7)
    with pytest.raises(DataError, match="duration"):
        parse_duration("soon")
    with pytest.raises(DataError, match="positive"):
        parse_duration("0d")


def test_frame_filter_uses_whole_dates_for_day_windows():
    frames = playback_frames(dt.date(2024, 1, 1), dt.date(2024, 1, 3), "1d", window="2d")
    state = frame_filter(FilterState(outcomes={"impact"}), *frames[-1])
    assert (state.start, state.end, state.outcomes) == (dt.date(2024, 1, 2), dt.date(2024, 1, 3),
                                                        frozenset({"impact"}))
    assert date_range_ns(state) == (frames[-1][0].value, frames[-1][1].value)


def test_frame_filter_for_hour_windows_is_half_open():
    start = pd.Timestamp("2024-01-01 10:00", tz="UTC")
    state = frame_filter(FilterState(), start, start + pd.Timedelta(hours=1))
    frame = make_frame([(start.to_pydatetime(), "exact", "impact", "decoy"),
                        ((start + pd.Timedelta(hours=1)).to_pydatetime(), "exact", "impact", "decoy")])
    assert state.mask(frame).tolist() == [True, False]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 6 * 365 * 24 * 3600), min_size=1, max_size=200))
def test_local_day_of_each_event_matches_the_calendar(seconds):
    """Events are placed in their local (Kyiv) calendar day across years of daylight-saving changes."""
    times = [BASE + dt.timedelta(seconds=s) for s in seconds]
    frame = make_frame([(t, "exact", "impact", "decoy") for t in times])
    index = TimelineIndex.from_frame(frame)
    for t, day in zip(times, index.day):
        start = pd.Timestamp(index.day_edges[day], tz="UTC").tz_convert("Europe/Kyiv")
        assert start.date() == t.astimezone(KYIV).date() and (start.hour, start.minute) == (0, 0)


def test_describe_window():
    from geodata.timeline import describe_window

    a = pd.Timestamp("2024-05-01", tz="Europe/Kyiv")
    assert describe_window(a, a + pd.Timedelta(days=1)) == "2024-05-01"
    assert describe_window(a, a + pd.Timedelta(days=7)) == "2024-05-01 – 2024-05-07"
    assert describe_window(a, a + pd.Timedelta(hours=6)) == "2024-05-01 00:00 – 2024-05-01 06:00"
