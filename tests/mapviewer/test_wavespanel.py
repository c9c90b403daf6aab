"""Attack-waves panel (funnel per munition) and the oblast shading counts, over a real AppState."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from geodata import FilterState, LoadReport
from geodata.normalize import build_frame
from geodata.waves import read_waves, target_counts
from mapviewer.map.waveshading import wave_shading
from mapviewer.panels.waves import NO_WAVES_TEXT, STAGE_COLOURS, TOTAL_LABEL, WavesPanel, bar_segments

HEADER = ("time_start,time_end,model,launch_place,target,target_main,carrier,launched,destroyed,"
          "not_reach_goal,still_attacking,border_crossing,is_shahed,affected region,source")
ROWS = [
    # 2: the night of the story: 57 drones, 53 intercepted
    "2025-09-29 18:00,2025-09-30 08:30,Shahed-136/131,Kursk oblast and Primorsko-Akhtarsk,Kyiv oblast,Kyiv,,"
    "57.0,53.0,,,,1.0,Kyiv oblast,https://example.org/1",
    # 3: four ballistic missiles the same night, none intercepted
    "2025-09-30 01:00,2025-09-30 02:00,KN-23,Kursk oblast,Kyiv oblast,,,4.0,0.0,,,,0.0,,https://example.org/1",
    # 4: cruise missiles at a macro-region, date only
    "2025-10-05,2025-10-05,X-101/X-555,Caspian Sea,south,,Tu-95MS,10,7,2,,,0,,https://example.org/2",
    # 5: drones at an oblast and raion
    "2025-10-05 03:00,2025-10-05 06:00,Shahed-136,Kursk oblast,\"Kharkiv oblast, Kharkiv Raion\",,,20,15,3,,,1,,x",
    # 6: a model the catalogue does not know, written with markup
    "2025-10-05,2025-10-05,<b>Orlan</b>,Kursk oblast,Sumy oblast,,,1,1,,,,0,,x",
    # 7: the report leaves the destroyed count out
    "2025-10-06,2025-10-06,Kalibr,Black Sea,Odesa oblast,,,6,,,,,0,,x",
]
# (time in Kyiv, munition, outcome)
EVENTS = [
    ("2025-09-30 01:40", "KN-23", "impact"),
    ("2025-09-30 01:41", "KN-23", "impact"),
    ("2025-09-30 01:42", "KN-23", "deviated"),
    ("2025-09-30 01:50", "KN-23", "impact"),
    ("2025-09-30 03:00", "Shahed-136", "impact"),
    ("2025-09-30 04:00", "Shahed-131", "debris"),
    ("2025-09-30 05:00", "Shahed-136", "intercepted"),
    ("2025-10-01 05:00", "Shahed-136", "impact"),  # in no wave's window
    ("2025-10-05 04:00", "Shahed-136", "impact"),
    ("2025-10-05 12:00", "Kh-101", "impact"),
]
KEYS = ("launched", "intercepted", "not_reached", "impacts", "geolocated", "geolocated_impacts")


def _counts(*values, still_attacking=0):
    return dict(zip(KEYS, values), still_attacking=still_attacking)


@pytest.fixture
def waves_path(tmp_path: Path) -> Path:
    path = tmp_path / "missile_attacks_daily.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def events():
    raw = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(1, len(EVENTS) + 1)],
        "occurred_at": [e[0] for e in EVENTS],
        "latitude": [50.4 + 0.01 * i for i in range(len(EVENTS))],
        "longitude": [30.5 + 0.01 * i for i in range(len(EVENTS))],
        "munition": [e[1] for e in EVENTS],
        "outcome": [e[2] for e in EVENTS],
        "geo_precision": ["exact"] * len(EVENTS),
    })
    report = LoadReport("events.csv", "csv")
    return build_frame(raw, report, rows=range(2, 2 + len(EVENTS)), tz="Europe/Kyiv"), report


@pytest.fixture
def state(qapp, waves_path, events):
    from mapviewer.state import AppState

    state = AppState()
    frame, report = events
    state.add_dataset("events.csv", frame, report)
    result = read_waves(waves_path)
    state.add_waves(str(waves_path), result.frame, result.report)
    return state


@pytest.fixture
def panel(qtbot, state):
    widget = WavesPanel(state)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    return widget


def test_no_report_open_says_how_to_get_one(qtbot, qapp):
    from mapviewer.state import AppState

    widget = WavesPanel(AppState())
    qtbot.addWidget(widget)
    assert widget.message.text() == NO_WAVES_TEXT
    assert widget.view.isHidden()
    assert widget.model.rowCount() == 0


def test_funnel_per_munition_for_everything(panel):
    shown = panel.displayed()
    assert shown["Shahed-136 / Shahed-131"] == _counts(57, 53, 0, 4, 3, 1)
    assert shown["Shahed-136"] == _counts(20, 15, 3, 2, 1, 1)
    assert shown["Kh-101 / Kh-555"] == _counts(10, 7, 2, 1, 1, 1)
    assert shown["KN-23"] == _counts(4, 0, 0, 4, 4, 3)
    assert shown["<b>Orlan</b>"] == _counts(1, 1, 0, 0, 0, 0)
    assert shown["3M-14 Kalibr"] == _counts(6, None, 0, None, 0, 0)
    # a count missing for one munition leaves the total of that count unknown, not understated
    assert shown[TOTAL_LABEL] == _counts(98, None, 5, None, 9, 6)
    # the total's bar adds up the munitions' bars; Kalibr's 6 with no destroyed count are unaccounted
    assert dict(bar_segments(panel.model.rows[0])) == {"intercepted": 76, "not_reached": 5, "impacts": 11,
                                                       "unaccounted": 6}
    # the total first, then the largest launches
    assert [r["munition"] for r in panel.model.rows][:2] == [TOTAL_LABEL, "Shahed-136 / Shahed-131"]
    # the table cells say the same as the numbers
    model = panel.model
    row = [r["munition"] for r in model.rows].index("KN-23")
    assert [model.index(row, c).data() for c in range(8)] == ["KN-23", "4", "0", "0", "0", "4", "4", "3"]
    row = [r["munition"] for r in model.rows].index("3M-14 Kalibr")
    assert model.index(row, 2).data() == "—"  # missing, never shown as 0


def test_the_story_line_for_one_night_of_drones(panel, state):
    state.set_filter(FilterState(munitions={"Shahed-131"}))
    assert list(panel.displayed()) == ["Shahed-136 / Shahed-131"]  # one munition: no total row
    text = panel.message.text()
    assert "57 launched, 53 intercepted, 4 not intercepted" in text
    # only the Shahed-131 debris event is kept by the munition filter
    assert "1 geolocated events in the waves' windows, 0 of them impacts" in text
    assert "1 of 6 waves" in text


def test_date_filter_applies_to_waves_and_events(panel, state):
    state.set_filter(FilterState(start=dt.date(2025, 10, 5), end=dt.date(2025, 10, 5)))
    shown = panel.displayed()
    assert set(shown) == {TOTAL_LABEL, "Shahed-136", "Kh-101 / Kh-555", "<b>Orlan</b>"}
    assert shown[TOTAL_LABEL] == _counts(31, 23, 5, 3, 2, 2)
    state.set_filter(FilterState(start=dt.date(2025, 9, 29), end=dt.date(2025, 9, 30)))
    assert set(panel.displayed()) == {TOTAL_LABEL, "Shahed-136 / Shahed-131", "KN-23"}
    state.set_filter(FilterState(start=dt.date(2025, 11, 1)))
    assert panel.displayed() == {}
    assert panel.view.isHidden()
    assert "No attack waves in the filtered period" in panel.message.text()


def test_a_night_wave_shows_on_the_morning_s_day_with_its_whole_window(panel, state, waves_path):
    # The drone wave runs from 29 Sep 18:00 to 30 Sep 08:30 (Kyiv): picking 30 September keeps it
    # (and its shading), as that night's impacts are on the map that day.
    state.set_filter(FilterState(start=dt.date(2025, 9, 30), end=dt.date(2025, 9, 30)))
    shown = panel.displayed()
    assert shown["Shahed-136 / Shahed-131"] == _counts(57, 53, 0, 4, 3, 1)
    assert shown["KN-23"] == _counts(4, 0, 0, 4, 4, 3)
    assert "on 30 Sep 2025" not in panel.message.text()  # the kept waves span two days
    assert target_counts(state.waves, state.filter)["Kyiv Oblast"] == 61
    # Picking 29 September keeps the same night, and its events of the 30th count against it.
    state.set_filter(FilterState(start=dt.date(2025, 9, 29), end=dt.date(2025, 9, 29)))
    assert panel.displayed()["Shahed-136 / Shahed-131"] == _counts(57, 53, 0, 4, 3, 1)


def _waves_file(folder: Path, *rows: str) -> Path:
    path = folder / "more_waves.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_still_attacking_drones_are_not_impacts(qtbot, qapp, tmp_path):
    from mapviewer.state import AppState

    path = _waves_file(tmp_path, "2025-10-07 20:00,2025-10-08 06:00,Shahed-136,Kursk oblast,Kyiv oblast,,,"
                                 "57,40,2,10,,1,,x")
    state = AppState()
    result = read_waves(path)
    state.add_waves(str(path), result.frame, result.report)
    widget = WavesPanel(state)
    qtbot.addWidget(widget)
    assert widget.displayed()["Shahed-136"] == _counts(57, 40, 2, 5, 0, 0, still_attacking=10)
    row = widget.model.rows[0]
    # the bar: the 10 in the air are in the grey part the legend calls "still attacking"
    assert dict(bar_segments(row)) == {"intercepted": 40, "not_reached": 2, "impacts": 5, "unaccounted": 10}
    headers = [widget.model.headerData(c, Qt.Orientation.Horizontal) for c in range(widget.model.columnCount())]
    assert widget.model.index(0, headers.index("Still attacking")).data() == "10"
    assert widget.model.index(0, headers.index("Impacts")).data() == "5"
    tip = widget.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "2 did not reach the target, 10 still attacking, 5 impacts" in tip
    assert "10 still attacking, 5 impacts" in widget.message.text()


def test_launches_aimed_at_no_oblast_are_counted_in_words(qtbot, qapp, tmp_path):
    from mapviewer.state import AppState
    from mapviewer.map.waveshading import unplaced_note

    path = _waves_file(tmp_path,
                       "2025-10-07 20:00,2025-10-08 06:00,Shahed-136,Kursk oblast,Ukraine,,,30,25,,,,1,,x",
                       "2025-10-07 20:00,2025-10-08 06:00,Kalibr,Black Sea,Zzyzx Nowhere,,,6,4,,,,0,,x",
                       "2025-10-07 20:00,2025-10-08 06:00,KN-23,Kursk oblast,Kharkiv oblast,,,2,0,,,,0,,x")
    waves = read_waves(path).frame
    assert target_counts(waves) == {"Kharkiv Oblast": 2}
    assert unplaced_note(waves).startswith("36 launches not placed on an oblast")
    assert unplaced_note(waves, FilterState(munitions={"KN-23"})) == ""
    state = AppState()
    state.add_waves(str(path), waves, read_waves(path).report)
    widget = WavesPanel(state)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.unplaced.text().startswith("36 launches not placed on an oblast")
    assert widget.unplaced.isVisible()
    state.set_filter(FilterState(munitions={"3M-14 Kalibr"}))
    assert widget.unplaced.text().startswith("6 launches not placed on an oblast")
    state.set_filter(FilterState(munitions={"KN-23"}))
    assert widget.unplaced.text() == "" and not widget.unplaced.isVisible()


def test_munition_filter_narrows_the_geolocated_events_too(panel, state):
    state.set_filter(FilterState(munitions={"Shahed-136"}))
    shown = panel.displayed()
    assert set(shown) == {TOTAL_LABEL, "Shahed-136 / Shahed-131", "Shahed-136"}
    assert shown["Shahed-136 / Shahed-131"] == _counts(57, 53, 0, 4, 2, 1)  # the Shahed-131 debris left out


def test_outcome_filter_leaves_waves_and_says_so(panel, state):
    state.set_filter(FilterState(outcomes={"impact"}))
    shown = panel.displayed()
    assert shown["KN-23"] == _counts(4, 0, 0, 4, 3, 3)  # launches unchanged, the deviated one not counted
    assert "outcome" in panel.note.text()


def test_follows_data_and_wave_changes(panel, state, waves_path):
    state.add_waves(str(waves_path), read_waves(waves_path).frame, read_waves(waves_path).report)
    assert panel.displayed()["Shahed-136 / Shahed-131"]["launched"] == 114  # the same report twice
    state.clear()
    assert panel.displayed() == {}
    assert panel.message.text() == NO_WAVES_TEXT


def test_new_events_update_the_geolocated_counts(qtbot, qapp, waves_path, events):
    from mapviewer.state import AppState

    state = AppState()
    state.add_waves(str(waves_path), read_waves(waves_path).frame, read_waves(waves_path).report)
    widget = WavesPanel(state)
    qtbot.addWidget(widget)
    assert widget.displayed()["KN-23"]["geolocated"] == 0
    frame, report = events
    state.add_dataset("events.csv", frame, report)
    assert widget.displayed()["KN-23"]["geolocated"] == 4


def test_hidden_panel_catches_up_when_shown(panel, state):
    panel.hide()
    state.set_filter(FilterState(munitions={"KN-23"}))
    assert "98 launched" in panel.message.text()  # not recomputed while hidden
    panel.show()
    assert "4 launched, 0 intercepted, 4 not intercepted" in panel.message.text()
    assert [r["munition"] for r in panel.model.rows] == ["KN-23"]


def test_record_text_is_shown_as_text(panel):
    model = panel.model
    row = [r["munition"] for r in model.rows].index("<b>Orlan</b>")
    assert model.index(row, 0).data() == "<b>Orlan</b>"  # plain text in the table
    tip = model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "&lt;b&gt;Orlan&lt;/b&gt;" in tip and "<b>Orlan" not in tip
    assert panel.message.textFormat() == Qt.TextFormat.PlainText


def test_bars_are_painted_in_the_style_colours(panel, qtbot):
    qtbot.waitExposed(panel)
    image = panel.view.viewport().grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    for stage in ("intercepted", "not_reached", "impacts"):
        assert QColor(STAGE_COLOURS[stage]).name() in colours, stage


# -- oblast shading ----------------------------------------------------------------------------


def _plain_loop(waves: pd.DataFrame, start=None, end=None, munitions=None) -> dict[str, int]:
    """Launches per oblast, one wave at a time, dates read in Kyiv time: a wave whose window
    touches the date range counts."""
    counts: dict[str, int] = {}
    for _, wave in waves.iterrows():
        first = wave["occurred_at"].tz_convert("Europe/Kyiv").date()
        last = wave["time_end"].tz_convert("Europe/Kyiv").date()
        if (start and last < start) or (end and first > end):
            continue
        if munitions and not (set(wave["munition_names"]) & munitions):
            continue
        if pd.isna(wave["launched"]):
            continue
        for oblast in wave["target_admin1"]:
            counts[oblast] = counts.get(oblast, 0) + int(wave["launched"])
    return counts


@pytest.mark.parametrize("start,end,munitions", [
    (None, None, None),
    (dt.date(2025, 10, 5), dt.date(2025, 10, 5), None),
    (None, dt.date(2025, 9, 30), None),
    (dt.date(2025, 9, 30), dt.date(2025, 9, 30), None),  # the night that started on the 29th counts
    (None, None, {"Shahed-136"}),
    (None, None, {"Kh-555"}),
    (dt.date(2025, 12, 1), None, None),
])
def test_shading_counts_equal_a_plain_loop(waves_path, start, end, munitions):
    waves = read_waves(waves_path).frame
    state = FilterState(start=start, end=end, munitions=munitions)
    assert target_counts(waves, state) == _plain_loop(waves, start, end, munitions)


def test_shading_counts_name_the_basemap_oblasts(waves_path):
    from geodata.basemap import oblasts

    waves = read_waves(waves_path).frame
    counts = target_counts(waves, FilterState())
    assert counts["Kyiv Oblast"] == 61  # 57 drones + 4 KN-23
    assert counts["Kharkiv Oblast"] == 20  # through "Kharkiv oblast, Kharkiv Raion"
    assert counts["Odesa Oblast"] == 16  # 10 aimed at "south", 6 Kalibr
    assert set(counts) <= set(oblasts()["name"])  # the keys the map page's oblast features carry
    assert wave_shading(None, FilterState()) == {}


def test_shading_style_for_the_page_by_oblast_name(waves_path):
    waves = read_waves(waves_path).frame
    only_october = FilterState(start=dt.date(2025, 10, 1))
    by_name = target_counts(waves, only_october)
    assert by_name["Kharkiv Oblast"] == 20 and "Kyiv Oblast" not in by_name  # the 29-30 Sep night left out
    style = wave_shading(waves, only_october)
    assert set(style) == set(by_name)
    assert style["Kharkiv Oblast"]["fill_opacity"] == max(s["fill_opacity"] for s in style.values())
    assert style["Sumy Oblast"]["fill_opacity"] < style["Odesa Oblast"]["fill_opacity"]  # 1 launch < 10
    assert wave_shading(waves, FilterState(start=dt.date(2026, 1, 1))) == {}


# -- in the main window ------------------------------------------------------------------------


def test_opening_a_waves_report_in_the_app_shows_its_funnel(make_main_window, qtbot, waves_path):
    window = make_main_window()
    window.show_messages = False
    window.open_files([waves_path])
    qtbot.waitUntil(lambda: window.state.waves is not None, timeout=30000)
    assert len(window.state.frame) == 0  # waves are not points: no events were invented
    assert window.waves_dock.isVisible()
    shown = window.waves_panel.displayed()
    assert shown["Shahed-136 / Shahed-131"]["launched"] == 57
    assert shown["Shahed-136 / Shahed-131"]["intercepted"] == 53
    window.open_files([waves_path])  # the same report again is not counted twice
    assert len(window.state.wave_datasets) == 1
