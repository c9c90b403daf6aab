"""One strike, many reports, in the app: three open sources counted once per strike, and the
analyst's decisions (split, join, confirm) kept next to the data."""
from __future__ import annotations

import json

import pytest

from geodata.match import Decisions
from geodata.points import lon_lat
from mapviewer.map.page import record_details
from tests.mapviewer.test_export_merge import write_sources
from tests.mapviewer.test_mapview import click_position, js

WAIT = 60000


@pytest.fixture
def sources(tmp_path):
    return [str(p) for p in write_sources(tmp_path)]


@pytest.fixture
def window(make_main_window):
    window = make_main_window()
    window.show_messages = False
    window.resize(1200, 800)
    return window


def open_and_match(qtbot, window, paths, strikes: int | None = None) -> None:
    """Open ``paths`` and wait until the reports are matched (and, with ``strikes``, that many shown)."""
    with qtbot.waitSignal(window.loader.idle, timeout=WAIT):
        window.open_files(paths)
    state = window.state
    qtbot.waitUntil(lambda: not window.matcher.busy and state.counting_strikes
                    and state.strikes is not None and state.strikes.reports is state.reports, timeout=WAIT)
    if strikes is not None:
        qtbot.waitUntil(lambda: len(state.frame) == strikes, timeout=WAIT)


def rematched(qtbot, window, action) -> None:
    """Do ``action`` (a decision) and wait for the reports to be matched again."""
    with qtbot.waitSignal(window.state.strikes_changed, timeout=WAIT):
        action()


def group_item(panel, members: int):
    items = [panel.groups.topLevelItem(i) for i in range(panel.groups.topLevelItemCount())]
    return next(item for item in items if item.childCount() == members)


def test_three_sources_show_one_strike_once(qtbot, window, sources):
    open_and_match(qtbot, window, sources)
    state = window.state
    # six reports, four strikes: the Kharkiv strike once
    assert window.summary.headline.text() == "4 strikes from 6 reports (3 matched)"
    assert len(state.reports) == 6 and len(state.frame) == 4
    # every count says what it counts
    assert window.filter_panel.count_label.text() == "4 of 4 strikes"
    assert window.summary.outcomes.headerItem().text(1) == window.summary.munitions.headerItem().text(1) == "Strikes"
    qtbot.waitUntil(lambda: window.map_view.drawn_count == 4, timeout=WAIT)
    assert window.table.model.rowCount() == 4
    # casualties: the strike's reports say 2, 4 and 3 killed; the totals run from the smallest to the largest
    assert "Killed: 3-5" in window.summary.details.text()
    kharkiv = int(state.strikes.strike_of[0])
    details = record_details(state.frame, [kharkiv], reports=state.reports_of)[str(kharkiv)]
    assert ["Killed", "2-4 (3 reports)"] in details
    label, summary, reports = details[-1]
    assert label == "Reports" and summary.startswith("3 reports")
    listed = [dict(pairs) for pairs in reports]
    assert [r["Report"].split(":")[0] for r in listed] == ["cir.csv", "bellingcat.csv", "acled.csv"]
    assert listed[0]["Time (Kyiv)"] == "2025-06-02 03:40" and listed[1]["Time (Kyiv)"] == "2025-06-02 (day only)"
    assert listed[2]["Place"] == "Kharkiv, Kharkivska oblast (settlement only)"
    assert listed[1]["Munition as written"] == "ballistic missile" and listed[0]["Link"] == "https://example.org/cir/1"
    # the strike is drawn at the most precise place of its reports (the monitor's point)
    lon, lat = lon_lat(state.frame)
    assert (lat[kharkiv], lon[kharkiv]) == pytest.approx((50.0, 36.23))
    # clicking its symbol opens a popup listing every report, with its source and link
    def clicked() -> bool:  # clicked again while the map may still be moving to fit the strikes
        click_position(qtbot, window.map_view, kharkiv)
        qtbot.wait(300)
        return state.selection.tolist() == [kharkiv]

    qtbot.waitUntil(clicked, timeout=WAIT)
    qtbot.waitUntil(lambda: js(qtbot, window.map_view,
                               "document.querySelectorAll('.leaflet-popup-content .mv-report').length") == 3,
                    timeout=WAIT)
    text = js(qtbot, window.map_view, "document.querySelector('.leaflet-popup-content').textContent")
    assert "Bellingcat" in text and "ACLED" in text and "https://example.org/bc/1" in text
    # the matches panel lists the group with its reasons
    item = group_item(window.matches_panel, 3)
    assert "one report gives the day only" in item.text(2)


def test_switching_counting_off_shows_every_report(qtbot, window, sources):
    open_and_match(qtbot, window, sources, strikes=4)
    assert window.count_once_action.isChecked() and window.matches_panel.count_once.isChecked()
    window.count_once_action.setChecked(False)
    assert window.summary.headline.text() == "6 of 6 events shown"
    assert window.filter_panel.count_label.text() == "6 of 6 events"
    assert window.summary.outcomes.headerItem().text(1) == "Events"
    qtbot.waitUntil(lambda: window.map_view.drawn_count == 6, timeout=WAIT)
    assert not window.matches_panel.count_once.isChecked()
    window.matches_panel.count_once.setChecked(True)
    assert window.summary.headline.text() == "4 strikes from 6 reports (3 matched)"
    qtbot.waitUntil(lambda: window.map_view.drawn_count == 4, timeout=WAIT)


def test_one_file_counts_reports(qtbot, window, sources):
    with qtbot.waitSignal(window.loader.idle, timeout=WAIT):
        window.open_files(sources[:1])
    assert not window.state.counting_strikes and not window.count_once_action.isChecked()
    assert window.summary.headline.text() == "2 of 2 events shown"


def test_split_is_kept_in_a_file_and_applied_again_when_reopened(qtbot, window, sources, tmp_path):
    open_and_match(qtbot, window, sources, strikes=4)
    panel = window.matches_panel
    group = group_item(panel, 3)
    acled = next(group.child(i) for i in range(3) if group.child(i).text(1).startswith("acled.csv:AC-1"))
    acled.setSelected(True)
    assert panel.split_button.isEnabled()
    rematched(qtbot, window, panel.split_button.click)
    state = window.state
    assert len(state.frame) == 5 and window.summary.headline.text() == "5 strikes from 6 reports (2 matched)"
    saved = json.loads((tmp_path / "strike-matches.json").read_text(encoding="utf-8"))
    assert saved["decisions"][0]["action"] == "split"
    assert saved["decisions"][0]["reports"] == [{"source": "acled.csv", "event_id": "AC-1"}]
    # closed and opened again: the report stays apart
    window.close_all()
    open_and_match(qtbot, window, sources)
    assert len(state.frame) == 5
    assert state.strikes.strike_of[4] != state.strikes.strike_of[0]  # AC-1 on its own
    assert state.strikes.strike_of[2] == state.strikes.strike_of[0]  # BC-1 still with CIR-1


def test_join_two_strikes_chosen_on_the_map(qtbot, window, sources):
    open_and_match(qtbot, window, sources, strikes=4)
    state = window.state
    odesa, lviv = (int(state.strikes.strike_of[i]) for i in (1, 3))  # CIR-2 and BC-2: far apart, never matched
    state.set_selection([odesa, lviv])
    assert window.matches_panel.join_button.isEnabled()
    rematched(qtbot, window, window.matches_panel.join_button.click)
    assert len(state.frame) == 3 and window.summary.headline.text() == "3 strikes from 6 reports (5 matched)"
    assert state.strikes.strike_of[1] == state.strikes.strike_of[3]
    joined = group_item(window.matches_panel, 2)
    assert joined.text(2) == "joined by the analyst" and joined.text(0) == "1.00"


def test_confirm_marks_the_group_sure(qtbot, window, sources, tmp_path):
    open_and_match(qtbot, window, sources, strikes=4)
    panel = window.matches_panel
    group_item(panel, 3).setSelected(True)
    rematched(qtbot, window, panel.confirm_button.click)
    group = group_item(panel, 3)
    assert group.text(0) == "1.00 ✓" and "confirmed by the analyst" in group.text(2)
    assert Decisions.load(tmp_path / "strike-matches.json").items[0].action == "confirm"


def test_decisions_naming_reports_that_are_gone_are_said(qtbot, window, sources, tmp_path):
    decisions = Decisions()
    decisions.split(("acled.csv", "AC-9"), [("cir.csv", "CIR-1")])
    decisions.save(tmp_path / "strike-matches.json")
    messages = []
    window.matcher.notice.connect(messages.append)
    open_and_match(qtbot, window, sources, strikes=4)
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT)
    assert "acled.csv:AC-9" in messages[0] and "gone" in messages[0]
    assert "acled.csv:AC-9" in window.statusBar().currentMessage()


def test_a_saved_view_names_its_decisions_file(qtbot, window, sources, tmp_path, make_main_window):
    from mapviewer.files.views import apply_view, load_view, save_view, view_from_state

    elsewhere = tmp_path / "decisions" / "kharkiv.json"
    decisions = Decisions()
    decisions.split(("bellingcat.csv", "BC-1"), [("cir.csv", "CIR-1")])
    decisions.save(elsewhere)
    open_and_match(qtbot, window, sources, strikes=4)
    window.state.set_decisions_path(str(elsewhere))
    qtbot.waitUntil(lambda: len(window.state.frame) == 5 and not window.matcher.busy, timeout=WAIT)
    view = save_view(tmp_path / "view.json", view_from_state(window.state))
    assert json.loads(view.read_text(encoding="utf-8"))["match_decisions"] == "decisions/kharkiv.json"
    other = make_main_window()
    other.show_messages = False
    apply_view(other, load_view(view))
    qtbot.waitUntil(lambda: other.state.counting_strikes and len(other.state.frame) == 5, timeout=WAIT)
    assert other.matcher.decisions_file == str(elsewhere)


def test_figure_from_the_app_counts_strikes(qtbot, window, sources, tmp_path):
    from mapviewer.dialogs.export import export_figure
    from tests.mapviewer.test_figure import svg_texts

    open_and_match(qtbot, window, sources, strikes=4)
    out = tmp_path / "june.svg"
    export_figure(window, "June", "A4-landscape", str(out))
    texts = svg_texts(out)
    assert any("4 strikes from 6 reports" in t for t in texts) and "4 strikes shown" in texts


def test_html_map_from_the_app_lists_every_report_of_a_strike(qtbot, window, tmp_path, monkeypatch):
    from mapviewer.dialogs import export as export_dialogs
    from tests.mapviewer.test_export_merge import HOSTILE, page_details, reports_entry

    paths = write_sources(tmp_path)
    acled = paths[2]
    acled.write_text(acled.read_text(encoding="utf-8").replace("3,ACLED,", f'3,"{HOSTILE}",'), encoding="utf-8")
    open_and_match(qtbot, window, [str(p) for p in paths], strikes=4)
    out = tmp_path / "map.html"
    monkeypatch.setattr(export_dialogs, "ask_save_path", lambda *args: (str(out), ""))
    window.export_actions["Export HTML map"].trigger()
    page = out.read_text(encoding="utf-8")
    listed = [reports_entry(fields) for fields in page_details(page).values()]
    assert sorted(len(reports) for reports in listed) == [1, 1, 1, 3]
    (kharkiv,) = [reports for reports in listed if len(reports) == 3]
    assert [r["Report"] for r in kharkiv] == ["cir.csv: CIR-1 (row 2)", "bellingcat.csv: BC-1 (row 2)",
                                              "acled.csv: AC-1 (row 2)"]
    assert kharkiv[0]["Link"] == "https://example.org/cir/1" and kharkiv[1]["Time (Kyiv)"] == "2025-06-02 (day only)"
    assert kharkiv[2]["Place"] == "Kharkiv, Kharkivska oblast (settlement only)"
    assert [r["Munition as written"] for r in kharkiv] == ["KN-23", "ballistic missile", "missile"]
    assert [r["Killed"] for r in kharkiv] == ["2", "4", "3"] and kharkiv[2]["Source"] == HOSTILE
    assert "<script>window.__pwned" not in page and "{{7*7}}" in page


def test_a_screenshot_of_several_sources_waits_for_one_symbol_per_strike(qtbot, window, sources, tmp_path,
                                                                         monkeypatch):
    import time

    from PySide6.QtGui import QImage

    from mapviewer import matching
    from mapviewer.app import _ScreenshotJob
    from mapviewer.map.grab import is_blank

    def slow_matching(*args, **kwargs):  # as on large files: the reports are drawn well before they are matched
        time.sleep(3)
        return count_strikes(*args, **kwargs)

    count_strikes = matching.count_strikes
    monkeypatch.setattr(matching, "count_strikes", slow_matching)
    out = tmp_path / "strikes.png"
    job = _ScreenshotJob(window, str(out))
    saved = []  # what the map showed when the picture was taken (the job quits the app then: not here)
    monkeypatch.setattr(job, "_finish", lambda code: (job._timer.stop(), saved.append(
        (code, window.map_view.drawn_count, window.state.counting_strikes, len(window.state.frame)))))
    job.start()
    window.open_files(sources)
    qtbot.waitUntil(lambda: bool(saved), timeout=2 * WAIT)
    code, drawn, counting, shown = saved[0]
    assert code == 0 and counting and shown == 4
    assert drawn == 4  # six reports, four strikes: one symbol per strike
    assert not is_blank(QImage(str(out)))
