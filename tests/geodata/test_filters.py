"""FilterState.mask and facet_counts against a plain Python loop over rows."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata import FilterState, facet_counts, filters
from geodata.filters import FACETS, NO_MUNITION, NO_TAG, no_munition, tag_counts, tag_values
from geodata.schema import MUNITION_CLASS_DTYPE, MUNITION_CLASSES, OUTCOME_DTYPE, OUTCOMES, TIME_PRECISION_DTYPE

TZ = "Europe/Kyiv"
KYIV = ZoneInfo(TZ)
# Days around both 2024 clock changes in Kyiv (31 March, 27 October) and a plain summer day.
DAYS = [dt.date(2024, 3, 30) + dt.timedelta(days=i) for i in range(3)] + [
    dt.date(2024, 6, 1), dt.date(2024, 6, 2), dt.date(2024, 6, 3),
] + [dt.date(2024, 10, 26) + dt.timedelta(days=i) for i in range(3)]
MUNITIONS = ["KN-23", "Shahed-136", "Kh-101", "KAB"]
CLASSES = ["ballistic missile", "loitering munition", "cruise missile", "guided bomb", "unknown"]
#: What a person may write in a munition filter, and what it means.
ALIASES = {"Hwasong-11": "KN-23", "Geran-2": "Shahed-136", "drones": "loitering munition",
           "cruise missiles": "cruise missile"}
OBLASTS = ["Kyiv", "Kyivska oblast", "Kharkivska oblast"]
WORDS = ["Kyiv", "Київ", "port", "Odesa", "école", "KN-23", "shot down", ""]
#: TimeMap-style tag cells: one value, several joined, none.
AREAS = ["Residential", "Industrial | Residential", "Port", "Industrial", ""]


@st.composite
def instants(draw) -> dt.datetime:
    """UTC instants, often right at a local day boundary."""
    day = draw(st.sampled_from(DAYS))
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=KYIV)
    seconds = draw(st.sampled_from([0, 1, -1, 3600]) | st.integers(-3600, 26 * 3600))
    return (midnight.astimezone(dt.timezone.utc) + dt.timedelta(seconds=seconds))


def _as_read(r: dict) -> dict:
    """A day- or month-precision event stored as a reader stores it: at local midnight of its day or month."""
    local = r["occurred_at"].astimezone(KYIV)
    if r["time_precision"] == "exact":
        return r
    first = local.date() if r["time_precision"] == "day" else local.date().replace(day=1)
    return r | {"occurred_at": dt.datetime.combine(first, dt.time(), tzinfo=KYIV).astimezone(dt.timezone.utc)}


rows = st.fixed_dictionaries({
    "occurred_at": instants(),
    "time_precision": st.sampled_from(["exact", "exact", "day", "month"]),
    "munition": st.sampled_from(MUNITIONS) | st.none(),
    "munition_class": st.sampled_from(CLASSES) | st.none(),
    "tag_area": st.sampled_from(AREAS) | st.none(),
    "outcome": st.sampled_from(OUTCOMES),
    "admin1": st.sampled_from(OBLASTS) | st.none(),
    "location": st.sampled_from(WORDS),
    "notes": st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join),
    "x": st.floats(22.0, 40.0),
    "y": st.floats(44.0, 52.5),
    "killed": st.none() | st.integers(0, 4),
    "injured": st.none() | st.integers(0, 4),
}).map(_as_read)


def build(records: list[dict], text_dtype: str) -> gpd.GeoDataFrame:
    """A canonical frame from row dicts; ``text_dtype`` for munition and admin1."""
    n = len(records)
    col = lambda name: [r[name] for r in records]  # noqa: E731
    return gpd.GeoDataFrame(
        {
            "event_id": pd.array([f"EV-{i}" for i in range(n)], dtype="string"),
            "occurred_at": pd.DatetimeIndex(col("occurred_at"), tz="UTC").as_unit("ns") if n else
            pd.DatetimeIndex([], tz="UTC"),
            "time_precision": pd.Categorical(col("time_precision"), dtype=TIME_PRECISION_DTYPE),
            "location": pd.array(col("location"), dtype="string"),
            "admin1": pd.Series(col("admin1"), dtype=text_dtype).array,
            "munition": pd.Series(col("munition"), dtype=text_dtype).array,
            "munition_class": pd.Categorical(col("munition_class"), dtype=MUNITION_CLASS_DTYPE),
            "outcome": pd.Categorical(col("outcome"), dtype=OUTCOME_DTYPE),
            "killed": pd.array(col("killed"), dtype="Int64"),
            "injured": pd.array(col("injured"), dtype="Int64"),
            "source": pd.array(["Air Force"] * n, dtype="string"),
            "notes": pd.array(col("notes"), dtype="string"),
            "tag_area": pd.Series(col("tag_area"), dtype=text_dtype).array,
        },
        geometry=gpd.points_from_xy(col("x"), col("y")),
        crs="EPSG:4326",
        index=pd.RangeIndex(1, n + 1, name="row"),
    )


bounds = (
    st.none()
    | st.sampled_from(DAYS)  # whole local days
    | instants()  # aware datetimes
    | instants().map(lambda t: t.astimezone(KYIV).replace(tzinfo=None))  # naive: local wall time
    .filter(lambda t: t.hour != 3)  # not in the hour a spring clock change skips
)


def subsets(values: list) -> st.SearchStrategy:
    return st.none() | st.lists(st.sampled_from(values), max_size=len(values)).map(frozenset)


states = st.builds(
    FilterState,
    start=bounds,
    end=bounds,
    # events naming no munition: of one class, or of any class
    # names, aliases and classes: "KN-23 or any cruise missile" is one filter (a union)
    munitions=subsets(MUNITIONS + ["Kinzhal", NO_MUNITION] + [no_munition(c) for c in CLASSES]
                      + ["Hwasong-11", "Geran-2", "drones", "cruise missiles", "unknown"]),
    outcomes=subsets(list(OUTCOMES)),
    munition_classes=subsets(CLASSES),
    admin1=subsets(OBLASTS),
    text=st.none() | st.sampled_from(["kyiv", "КИЇВ", "PORT", "kn-", "ÉCOLE", "air", "zzz", " "]),
    bbox=st.none() | st.tuples(st.floats(22, 40), st.floats(44, 52.5)).flatmap(
        lambda sw: st.tuples(st.just(sw[0]), st.just(sw[1]), st.floats(sw[0], 41), st.floats(sw[1], 53))),
    min_casualties=st.none() | st.integers(0, 6),
    # a column the frames lack constrains nothing; an empty value names the column alone
    tags=subsets([("tag_area", v) for v in ["Residential", "Industrial", "Port", NO_TAG, ""]]
                 + [("tag_absent", "Residential")]),
)


def _after(t: dt.datetime, bound) -> bool:
    if isinstance(bound, dt.datetime):
        aware = bound if bound.tzinfo else bound.replace(tzinfo=KYIV)
        return t >= aware
    return t.astimezone(KYIV).date() >= bound


def _before(t: dt.datetime, bound) -> bool:
    if isinstance(bound, dt.datetime):
        aware = bound if bound.tzinfo else bound.replace(tzinfo=KYIV)
        return t <= aware
    return t.astimezone(KYIV).date() <= bound


def _last_instant(r: dict) -> dt.datetime:
    """The latest time the event may have happened (1 µs before the next local day or month; bounds
    are whole microseconds, so this compares with them as the mask's last nanosecond does)."""
    local = r["occurred_at"].astimezone(KYIV)
    if r["time_precision"] == "exact":
        return r["occurred_at"]
    if r["time_precision"] == "day":
        following = local.date() + dt.timedelta(days=1)
    else:
        following = (local.date().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return dt.datetime.combine(following, dt.time(), tzinfo=KYIV) - dt.timedelta(microseconds=1)


def in_range(r: dict, s: FilterState) -> bool:
    """The event's whole possible span lies within the date range."""
    first, last = r["occurred_at"], _last_instant(r)
    return (s.start is None or _after(first, s.start)) and (s.end is None or _before(last, s.end))


def keeps(r: dict, i: int, s: FilterState, skip: str | None = None) -> bool:
    """The filter's meaning, one row at a time."""
    if skip != "date" and not in_range(r, s):
        return False
    for name, column in FACETS.items():
        wanted = getattr(s, name)
        if skip == name or wanted is None:
            continue
        if name == "munitions":
            meant = {ALIASES.get(w, w) for w in wanted}
            if (r["munition_class"] or "unknown") in meant:
                continue
            if r["munition"] is None:
                if not (NO_MUNITION in meant or no_munition(r["munition_class"] or "unknown") in meant):
                    return False
            elif r["munition"] not in meant:
                return False
        elif r[column] not in wanted:
            return False
    if s.tags is not None and skip not in ("tags", "tag_area"):
        allowed = {v for c, v in s.tags if c == "tag_area"}
        values = {p.strip() for p in (r["tag_area"] or "").split("|") if p.strip()}
        if any(c == "tag_area" for c, _ in s.tags) and not (values & allowed or (not values and NO_TAG in allowed)):
            return False
    if s.text is not None:
        needle = s.text.strip().casefold()
        fields = [r["location"], r["admin1"], r["munition"], r["notes"], "Air Force", f"EV-{i}", r["tag_area"]]
        if not any(v is not None and needle in v.casefold() for v in fields):
            return False
    if s.bbox is not None:
        w, so, e, n = s.bbox
        if not (w <= r["x"] <= e and so <= r["y"] <= n):
            return False
    if s.min_casualties is not None and (r["killed"] or 0) + (r["injured"] or 0) < s.min_casualties:
        return False
    return True


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(records=st.lists(rows, max_size=30), state=states,
       text_dtype=st.sampled_from(["string", "str", "object", "category"]),
       narrow=st.sampled_from([0.0, 0.125, 1.0]))
def test_mask_equals_a_loop_over_rows(records, state, text_dtype, narrow):
    frame = build(records, text_dtype)
    saved, filters._NARROW_BELOW = filters._NARROW_BELOW, narrow  # both ways of testing rows
    try:
        mask = state.mask(frame)
    finally:
        filters._NARROW_BELOW = saved
    assert mask.dtype == bool and mask.shape == (len(records),)
    assert mask.tolist() == [keeps(r, i, state) for i, r in enumerate(records)]
    # twice over the same frame (cached codes) and over a filtered copy: same answers
    assert state.mask(frame).tolist() == mask.tolist()
    part = frame[~mask]
    assert not state.mask(part).any()
    # left out only for the date range although they may lie in it: what views report
    overlap = [(state.start is None or _after(_last_instant(r), state.start))
               and (state.end is None or _before(r["occurred_at"], state.end)) for r in records]
    expected = [o and keeps(r, i, state, skip="date") and not keeps(r, i, state)
                for i, (r, o) in enumerate(zip(records, overlap))]
    assert state.straddling(frame).tolist() == expected


@SETTINGS
@given(records=st.lists(rows, max_size=30), state=states,
       text_dtype=st.sampled_from(["string", "category"]), facet=st.sampled_from(list(FACETS)))
def test_facet_counts_equal_a_loop(records, state, text_dtype, facet):
    frame = build(records, text_dtype)
    column = FACETS[facet]
    counts = facet_counts(frame, state, facet)
    expected: dict[str, int] = {}
    unnamed: dict[str, int] = {}
    for i, r in enumerate(records):
        if r[column] is not None:
            expected.setdefault(r[column], 0)
            expected[r[column]] += keeps(r, i, state, skip=facet)
        elif facet == "munitions":  # counted per class, as the panel's "(no munition named)" entries
            key = no_munition(r["munition_class"] or "unknown")
            unnamed[key] = unnamed.get(key, 0) + keeps(r, i, state, skip=facet)
    if isinstance(frame[column].dtype, pd.CategoricalDtype):  # every category listed
        for value in frame[column].cat.categories:
            expected.setdefault(value, 0)
    assert counts == expected | unnamed
    assert list(counts)[len(expected):] == [no_munition(c) for c in MUNITION_CLASSES if no_munition(c) in unnamed]


@SETTINGS
@given(records=st.lists(rows, max_size=30), state=states, text_dtype=st.sampled_from(["string", "category"]))
def test_tag_counts_equal_a_loop(records, state, text_dtype):
    frame = build(records, text_dtype)
    expected: dict[str, int] = {}
    for i, r in enumerate(records):
        kept = keeps(r, i, state, skip="tag_area")  # every other constraint, tags of other columns too
        for value in tag_values(r["tag_area"]) or {NO_TAG}:
            expected[value] = expected.get(value, 0) + kept
    counts = tag_counts(frame, state)
    assert list(counts) == ["tag_area"]
    assert counts["tag_area"] == expected
    if NO_TAG in expected:
        assert list(counts["tag_area"])[-1] == NO_TAG


def test_a_munition_filter_says_or_across_names_aliases_and_classes():
    state = FilterState(munitions=["Hwasong-11", "cruise missiles"])
    assert state.munitions == {"KN-23", "cruise missile"}
    assert state.munition_terms() == ({"KN-23"}, {"cruise missile"})
    # a name the record doubts is a value of its own, never read as the munition it doubts
    assert FilterState(munitions=["KN-23?"]).munitions == {"KN-23?"}


def test_unticking_one_munition_keeps_events_that_name_none_when_asked():
    timemap_like = one("2025-06-01T00:00:00Z", munition=None, munition_class="cruise missile")
    named = one("2025-06-01T00:00:00Z", munition="KAB", munition_class="guided bomb")
    frame = pd.concat([timemap_like, named], ignore_index=True)
    assert FilterState(munitions={"KAB"}).mask(frame).tolist() == [False, True]
    assert FilterState(munitions={"KAB", no_munition("cruise missile")}).mask(frame).tolist() == [True, True]
    assert FilterState(munitions={"KAB", no_munition("ballistic missile")}).mask(frame).tolist() == [False, True]
    assert FilterState(munitions={NO_MUNITION}).mask(frame).tolist() == [True, False]
    assert facet_counts(frame, FilterState(), "munitions") == {"KAB": 1, no_munition("cruise missile"): 1}


def test_tags_filter_by_column_and_value_and_are_searched():
    frame = pd.concat([one("2025-06-01T00:00:00Z", tag_area=v) for v in ("Residential", "Industrial | Port", None)],
                      ignore_index=True)
    assert FilterState(tags={("tag_area", "Residential")}).mask(frame).tolist() == [True, False, False]
    assert FilterState(tags={("tag_area", "Port")}).mask(frame).tolist() == [False, True, False]
    assert FilterState(tags={("tag_area", NO_TAG)}).mask(frame).tolist() == [False, False, True]
    assert FilterState(tags={("tag_area", "")}).mask(frame).tolist() == [False, False, False]
    assert FilterState(tags=[["tag_other", "x"]]).mask(frame).all()  # not in this frame: no constraint
    assert FilterState(text="industrial").mask(frame).tolist() == [False, True, False]
    assert tag_counts(frame, FilterState()) == {"tag_area": {"Industrial": 1, "Port": 1, "Residential": 1,
                                                             NO_TAG: 1}}


def one(when: str, **extra) -> gpd.GeoDataFrame:
    base = {"occurred_at": pd.Timestamp(when).to_pydatetime(), "time_precision": "exact", "munition": "KN-23",
            "munition_class": "ballistic missile", "outcome": "impact", "admin1": "Kyiv",
            "location": "Kyiv", "notes": "", "x": 30.5, "y": 50.4, "killed": 0, "injured": 0, "tag_area": None}
    return build([base | extra], "string")


def test_a_strike_at_one_in_the_morning_kyiv_time_belongs_to_that_day():
    strike = one("2025-06-01T22:00:00Z")  # 01:00 on 2 June in Kyiv
    assert FilterState(start=dt.date(2025, 6, 2), end=dt.date(2025, 6, 2)).mask(strike).all()
    assert not FilterState(end=dt.date(2025, 6, 1)).mask(strike).any()
    assert FilterState(start="2025-06-02", end="2025-06-02").mask(strike).all()


def test_end_day_is_inclusive_to_its_last_second():
    late = one("2025-06-02T20:59:59Z")  # 23:59:59 on 2 June in Kyiv
    next_day = one("2025-06-02T21:00:00Z")  # 00:00 on 3 June
    state = FilterState(start=dt.date(2025, 6, 2), end=dt.date(2025, 6, 2))
    assert state.mask(late).all() and not state.mask(next_day).any()


def test_whole_day_on_the_autumn_clock_change_lasts_25_hours():
    last_hour = one("2024-10-27T21:30:00Z")  # 23:30 on 27 October in Kyiv (UTC+2 after the change)
    assert FilterState(end=dt.date(2024, 10, 27)).mask(last_hour).all()


def test_an_event_known_only_to_its_month_is_shown_only_with_its_whole_month():
    june = one("2025-05-31T21:00:00Z", time_precision="month")  # June 2025, stored at 1 June 00:00 Kyiv
    first_days = FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 3))
    assert not first_days.mask(june).any()  # it may have happened on 20 June
    assert first_days.straddling(june).all()  # ... and views say it was left out
    whole = FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30))
    assert whole.mask(june).all() and not whole.straddling(june).any()
    assert not FilterState(start=dt.date(2025, 7, 1)).straddling(june).any()  # no overlap: simply out
    assert not FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 3),
                           munitions={"KAB"}).straddling(june).any()  # out for another reason too


def test_an_event_known_only_to_its_day_needs_the_whole_day():
    day = one("2025-06-01T21:00:00Z", time_precision="day")  # 2 June, Kyiv
    assert FilterState(start=dt.date(2025, 6, 2), end=dt.date(2025, 6, 2)).mask(day).all()
    morning = FilterState(start=dt.datetime(2025, 6, 2, 0, 0), end=dt.datetime(2025, 6, 2, 12, 0))
    assert not morning.mask(day).any() and morning.straddling(day).all()


def test_other_time_zone():
    strike = one("2025-06-01T22:00:00Z")  # 1 June in UTC
    assert FilterState(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 1), tz="UTC").mask(strike).all()


def test_edited_column_is_seen():
    frame = build([{"occurred_at": dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc), "time_precision": "exact", "munition": m,
                    "munition_class": "unknown", "outcome": "impact", "admin1": None, "location": "",
                    "notes": "", "x": 30.0, "y": 50.0, "killed": None, "injured": None, "tag_area": None}
                   for m in ["KN-23", "KAB", "KAB"]], "string")
    state = FilterState(munitions={"KN-23"})
    assert state.mask(frame).tolist() == [True, False, False]
    frame["munition"] = pd.array(["KAB", "KAB", "KN-23"], dtype="string")
    assert state.mask(frame).tolist() == [False, False, True]
    frame.loc[1, "munition"] = "KN-23"  # edited in place
    assert state.mask(frame).tolist() == [True, False, True]


def test_state_is_hashable_from_plain_sequences():
    a = FilterState(munitions=["KN-23"], outcomes=("impact",), bbox=[30, 50, 31, 51])
    b = FilterState(munitions={"KN-23"}, outcomes={"impact"}, bbox=(30.0, 50.0, 31.0, 51.0))
    assert a == b and hash(a) == hash(b)
    assert FilterState(munitions="KN-23").munitions == frozenset({"KN-23"})
    assert FilterState(text="  ").is_empty and not a.is_empty


def test_unknown_facet_is_refused():
    with pytest.raises(ValueError, match="unknown facet"):
        facet_counts(one("2025-06-01T00:00:00Z"), FilterState(), "colour")


def test_empty_frame():
    frame = build([], "string")
    assert FilterState(munitions={"KN-23"}, start=dt.date(2024, 1, 1)).mask(frame).shape == (0,)
    assert facet_counts(frame, FilterState(), "outcomes") == dict.fromkeys(OUTCOMES, 0)
    assert facet_counts(frame, FilterState(), "munitions") == {}
