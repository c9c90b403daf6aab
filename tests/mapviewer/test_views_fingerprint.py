"""Saved views notice change: fingerprints of the data files and of the rows shown; bounded view files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import geodata
from geodata import FilterState
from geodata.errors import DataError
from geodata.writers import write_csv, write_geojson
from mapviewer.files import views
from mapviewer.files.views import VIEW_MAX_BYTES, ViewSpec, load_view, save_view, view_changes, view_from_state

ROOT = Path(__file__).resolve().parents[2]
IMPACTS = FilterState(outcomes={"impact"})


def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV written by write_csv after ``change(rows)`` edits its rows (lists of cells)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], [line.split(",") for line in lines[1:]]
    change(header.split(","), rows)
    path.write_text("\n".join([header] + [",".join(r) for r in rows]) + "\n", encoding="utf-8-sig")


def set_cell(event_id: str, column: str, value: str):
    def change(header, rows):
        for row in rows:
            if row[0] == event_id:
                row[header.index(column)] = value
    return change


# -- the app ------------------------------------------------------------------------------------

@pytest.fixture
def saved(qtbot, make_main_window, tmp_path, frame):
    """A view of the impacts in night.csv saved from the app: (view file, data file)."""
    data = tmp_path / "night.csv"
    write_csv(frame, data)
    window = make_main_window()
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        window.open_files([str(data)])
    window.state.set_filter(IMPACTS)
    view_file = tmp_path / "brief.json"
    save_view(view_file, view_from_state(window.state))
    return view_file, data


@pytest.fixture
def asked(monkeypatch):
    """Replaces the question with a recorder; set ``asked.answer`` to what the user clicks."""
    class Asker:
        answer = True
        texts: list[str] = []

        def __call__(self, window, title, text):
            self.texts.append(text)
            return self.answer

    asker = Asker()
    asker.texts = []
    monkeypatch.setattr(views, "ask_open_anyway", asker)
    return asker


def open_view(qtbot, window, view_file) -> None:
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        assert window.open_view(str(view_file))


def test_a_saved_view_records_its_files_and_rows(saved):
    view_file, data = saved
    document = json.loads(view_file.read_text(encoding="utf-8"))
    source = document["sources"][0]
    assert source["size"] == data.stat().st_size and len(source["sha256"]) == 64 and source["modified"]
    assert document["rows"]["count"] == 4  # the impacts the view showed


def test_an_unchanged_view_opens_without_a_question(qtbot, make_main_window, saved, asked):
    window = make_main_window()
    open_view(qtbot, window, saved[0])
    assert asked.texts == [] and len(window.state.visible) == 4


def test_a_changed_view_says_what_changed_and_opens_anyway(qtbot, make_main_window, saved, asked, tmp_path):
    view_file, data = saved
    edit_csv(data, set_cell("N-1", "killed", "12"))  # an impact shown: changed

    def add_and_remove(header, rows):
        new = list(rows[0])
        new[0] = "N-9"
        rows.append(new)  # a copy of an impact under a new id: added
        rows[:] = [r for r in rows if r[0] != "N-4"]  # an impact: removed
    edit_csv(data, add_and_remove)

    window = make_main_window()
    open_view(qtbot, window, view_file)
    assert len(asked.texts) == 1
    text = asked.texts[0]
    assert "brief.json" in text and "night.csv changed" in text
    assert "1 row added, 1 removed, 1 changed (4 when saved, 4 now)" in text
    assert [d.path for d in window.state.datasets] == [str(data)] and window.state.filter == IMPACTS
    assert "data changed" in window.statusBar().currentMessage()


def test_cancel_puts_back_what_was_open(qtbot, make_main_window, saved, asked, tmp_path, frame):
    view_file, data = saved
    edit_csv(data, set_cell("N-2", "outcome", "intercepted"))  # an impact no longer shown: removed
    other = tmp_path / "other.csv"
    write_csv(frame.iloc[:3], other)
    window = make_main_window()
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        window.open_files([str(other)])
    window.state.set_filter(FilterState(munitions={"KN-23"}))
    asked.answer = False
    open_view(qtbot, window, view_file)
    assert "1 row removed (4 when saved, 3 now)" in asked.texts[0]
    assert "Did not open" in window.statusBar().currentMessage()
    # the earlier file is read again
    qtbot.waitUntil(lambda: not window.loader.busy and [d.path for d in window.state.datasets] == [str(other)],
                    timeout=60000)
    assert [d.path for d in window.state.datasets] == [str(other)]
    assert window.state.filter == FilterState(munitions={"KN-23"}) and len(window.state.frame) == 3


def test_a_file_changed_outside_the_rows_shown_is_said_not_asked(qtbot, make_main_window, saved, asked):
    view_file, data = saved
    edit_csv(data, set_cell("S-1", "killed", "3"))  # an interception: not among the impacts shown
    window = make_main_window()
    open_view(qtbot, window, view_file)
    assert asked.texts == []
    message = window.statusBar().currentMessage()
    assert "night.csv changed" in message and "rows the view shows are the same" in message


def test_the_question_shows_file_names_as_text(qtbot, make_main_window, tmp_path, frame, monkeypatch):
    """The default asker: plain text (a file name is never markup), Open anyway / Cancel."""
    from PySide6.QtWidgets import QMessageBox

    shown = {}

    def fake_exec(box):
        shown["text"], shown["format"] = box.text(), box.textFormat()
        shown["buttons"] = [b.text().replace("&", "") for b in box.buttons()]
        box.done(0)
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(views, "_nobody_to_ask", lambda: False)  # as on a desktop
    window = make_main_window()
    answer = views.ask_open_anyway(window, "Saved view: data changed", "<b>x.csv</b> changed")
    assert answer is False  # closed without "Open anyway"
    from PySide6.QtCore import Qt

    assert shown["format"] == Qt.TextFormat.PlainText and shown["text"] == "<b>x.csv</b> changed"
    assert "Open anyway" in shown["buttons"] and "Cancel" in shown["buttons"]


# -- without the app -------------------------------------------------------------------------------

def test_the_rows_fingerprint_ignores_the_file_format_and_row_order(tmp_path, frame):
    csv, geojson = tmp_path / "a.csv", tmp_path / "a.geojson"
    write_csv(frame, csv)
    write_geojson(frame.iloc[::-1], geojson)
    spec = ViewSpec(data=(str(csv),), filter=IMPACTS,
                    rows=geodata.fingerprint.rows_fingerprint(frame[IMPACTS.mask(frame)]))
    for path in (csv, geojson):
        changes = view_changes(spec, geodata.read_incidents(str(path)).frame)
        assert not changes and changes.rows.same


def test_a_big_view_says_the_rows_differ_without_saying_which(frame):
    from geodata.fingerprint import rows_fingerprint

    spec = ViewSpec(filter=IMPACTS, rows=rows_fingerprint(frame[IMPACTS.mask(frame)], keep=2))
    changes = view_changes(spec, frame.iloc[1:])
    assert changes.rows_changed
    assert changes.rows.words() == "other rows (4 when saved, 3 now; too many rows were shown to say which changed)"


def test_figure_fingerprints_follow_the_rows_not_the_file(tmp_path, frame):
    from mapviewer.export.figure import fingerprint

    csv, geojson = tmp_path / "a.csv", tmp_path / "a.geojson"
    write_csv(frame, csv)
    write_geojson(frame, geojson)
    from_csv = geodata.read_incidents(str(csv)).frame
    from_geojson = geodata.read_incidents(str(geojson)).frame
    first = fingerprint([csv], frame=from_csv, filter_state=IMPACTS)
    assert first == fingerprint([geojson], frame=from_geojson, filter_state=IMPACTS)  # same rows, other file
    assert first == fingerprint([], frame=from_csv.iloc[::-1], filter_state=IMPACTS)  # any order, no file at all
    changed = from_csv.copy()
    changed.loc[changed.index[0], "notes"] = "edited"
    assert fingerprint([csv], frame=changed, filter_state=IMPACTS) != first


# -- bounded view files ----------------------------------------------------------------------------

def load_in_thread(path, seconds: float = 20.0):
    """load_view(path) in a thread: the error it raised, failing the test if it is still waiting."""
    outcome = {}

    def run():
        try:
            load_view(path)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"load_view({path}) is still waiting"
    return outcome.get("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_at_once(tmp_path):
    fifo = tmp_path / "brief.json"
    os.mkfifo(fifo)
    error = load_in_thread(fifo)
    assert isinstance(error, DataError) and "named pipe" in str(error) and "not found" not in str(error)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_export_view_from_a_named_pipe_is_one_line(tmp_path):
    fifo = tmp_path / "brief.json"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "mapviewer", "export", "--view", str(fifo), "-o",
                           str(tmp_path / "out.csv")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"mapviewer export: error: {fifo}: not a saved view: "
                                                "a named pipe (FIFO), not a file"]


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "folder.json", "a folder"),
    (lambda d: Path("/dev/zero"), "a device"),
    (lambda d: d / "loop.json", "loops back on itself"),
    (lambda d: d / "dangling.json", "points to nothing"),
    (lambda d: d / "absent.json", "saved view not found"),
])
def test_each_kind_of_non_file_has_its_own_message(tmp_path, make, words):
    (tmp_path / "folder.json").mkdir()
    os.symlink(tmp_path / "loop.json", tmp_path / "loop.json")
    os.symlink(tmp_path / "nowhere.json", tmp_path / "dangling.json")
    path = make(tmp_path)
    if str(path) == "/dev/zero" and not path.exists():
        pytest.skip("no /dev/zero here")
    error = load_in_thread(path)
    assert isinstance(error, DataError) and words in str(error)
    assert ("not found" in str(error)) == (words == "saved view not found")


def test_a_deeply_nested_view_is_a_clear_message(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"mapviewer_view": 1, "filter": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(DataError, match="nested too deeply") as info:
        load_view(path)
    assert "Recursion" not in str(info.value)


def test_a_huge_view_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(VIEW_MAX_BYTES + 1)  # sparse: nothing to read, only its size
    with pytest.raises(DataError, match="more than a view holds"):
        load_view(path)


def test_a_long_title_is_cut_with_a_note(tmp_path):
    path = tmp_path / "brief.json"
    save_view(path, ViewSpec(title="Kyiv " * 1600))
    spec = load_view(path)
    assert len(spec.title) == 300 and spec.title.endswith("…")
    assert spec.notes == (f"{path} [title]: the title is 8,000 characters long: cut to the first 300",)


def test_a_view_listing_a_named_pipe_as_data_says_so(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes are POSIX")
    os.mkfifo(tmp_path / "night.csv")
    path = tmp_path / "brief.json"
    path.write_text(json.dumps({"mapviewer_view": 1, "data": ["night.csv"]}), encoding="utf-8")
    with pytest.raises(DataError, match=r"night\.csv.*named pipe"):
        load_view(path)


def test_a_view_of_files_already_open_is_checked_too(qtbot, make_main_window, saved, asked):
    view_file, data = saved
    edit_csv(data, set_cell("N-1", "killed", "12"))
    window = make_main_window()
    with qtbot.waitSignal(window.loader.idle, timeout=60000):
        window.open_files([str(data)])
    assert window.open_view(str(view_file))  # nothing to read: the file is open already
    qtbot.waitUntil(lambda: bool(asked.texts), timeout=10000)
    assert "1 row changed (4 when saved, 4 now)" in asked.texts[0]
    assert "data changed" in window.statusBar().currentMessage()
