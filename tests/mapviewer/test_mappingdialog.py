"""The column mapping dialog: a partner's file opens with its own column names."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from geodata import read_incidents
from geodata.errors import DataError
from mapviewer.dialogs.mapping import NOT_IN_FILE, ColumnMappingDialog

# Ukrainian headers, Windows-1251, semicolons, 24.02.2022 dates; row 4 lacks a latitude,
# row 5 has a date that does not exist.
PARTNER = (
    "№;Дата удару;Населений пункт;Область;Широта;Довгота;Боєприпас;Результат;Загинули;Поранені;Джерело;Примітки\n"
    "1;24.02.2022;Київ;Київська;50,45;30,52;Калібр;impact;2;;ДСНС;<b>перший</b> удар\n"
    "2;24.02.2022;Харків;Харківська;49.99;36.23;Іскандер-М;impact;;3;ДСНС;\n"
    "3;25.02.2022;Бровари;Київська;;30.79;Shahed-136;intercepted;0;0;;без координат\n"
    "4;31.02.2022;Житомир;Житомирська;50.25;28.66;Х-101;;;;;дата не існує\n"
)
# Headers no one could guess: every column must be chosen by hand.
OPAQUE = (
    "Коли;Пн;Сх;Що\n"
    "03/02/2022 04:30;50.45;30.52;Shahed-136\n"
    "04/02/2022 05:00;49.99;36.23;KN-23\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("cp1251"))
    return path


@pytest.fixture
def make_dialog(qtbot):
    def make(path: Path) -> ColumnMappingDialog:
        dialog = ColumnMappingDialog(path)
        qtbot.addWidget(dialog)
        return dialog

    return make


def _choose(dialog: ColumnMappingDialog, name: str, header: str | None) -> None:
    combo = dialog.combos[name]
    index = combo.findData(header) if header is not None else combo.findText(NOT_IN_FILE)
    assert index >= 0, header
    combo.setCurrentIndex(index)


def test_partner_file_is_shown_decoded_as_plain_text(make_dialog, tmp_path):
    dialog = make_dialog(_write(tmp_path, "partner.csv", PARTNER))
    table = dialog.table
    assert table.columnCount() == 12 and table.rowCount() == 4
    assert table.horizontalHeaderItem(2).text() == "Населений пункт"
    assert table.item(0, 2).text() == "Київ"
    assert table.item(0, 11).text() == "<b>перший</b> удар"  # markup shown as typed
    assert table.verticalHeaderItem(3).text() == "5"  # the row number the load report will use
    assert "Windows-1251" in dialog.encoding_combo.currentText()


def test_suggested_mapping_loads_every_row(make_dialog, tmp_path):
    path = _write(tmp_path, "partner.csv", PARTNER)
    dialog = make_dialog(path)
    assert dialog.combos["latitude"].currentText() == "Широта"
    assert dialog.combos["occurred_at"].currentText() == "Дата удару"
    assert dialog.combos["munition"].currentText() == "Боєприпас"
    assert dialog.ok_button.isEnabled()

    dialog.date_order_combo.setCurrentIndex(dialog.date_order_combo.findData(True))
    result = read_incidents(path, columns=dialog.mapping(), **dialog.options())
    report = result.report
    assert report.rows_read == 4 == report.rows_loaded + report.rows_rejected
    assert {p.row for p in report.errors} == {4, 5}
    assert list(result.frame["location"]) == ["Київ", "Харків"]
    assert list(result.frame["killed"].astype("object").where(result.frame["killed"].notna(), None)) == [2, None]


def test_ok_disabled_until_coordinates_and_date_are_chosen(make_dialog, tmp_path):
    path = _write(tmp_path, "opaque.csv", OPAQUE)
    dialog = make_dialog(path)
    assert not dialog.ok_button.isEnabled()
    status = dialog.status_label.text()
    assert "latitude" in status and "longitude" in status and "date" in status

    _choose(dialog, "latitude", "Пн")
    _choose(dialog, "longitude", "Сх")
    assert not dialog.ok_button.isEnabled()
    assert "date" in dialog.status_label.text() and "latitude" not in dialog.status_label.text()

    _choose(dialog, "occurred_at", "Коли")
    assert dialog.ok_button.isEnabled()
    assert "Що" in dialog.status_label.text()  # the unmapped column is said to be kept

    result = read_incidents(path, columns=dialog.mapping(), **dialog.options())
    assert result.report.rows_loaded == 2 and result.report.rows_rejected == 0
    assert "Що" in result.frame.columns  # kept as an extra column, not dropped


def test_one_column_for_two_fields_is_refused(make_dialog, tmp_path):
    dialog = make_dialog(_write(tmp_path, "partner.csv", PARTNER))
    _choose(dialog, "longitude", "Широта")
    assert not dialog.ok_button.isEnabled()
    assert "'Широта'" in dialog.status_label.text()
    _choose(dialog, "longitude", "Довгота")
    assert dialog.ok_button.isEnabled()


def test_time_zone_and_date_order_reach_the_reader(make_dialog, tmp_path):
    path = _write(tmp_path, "opaque.csv", OPAQUE)
    dialog = make_dialog(path)
    _choose(dialog, "latitude", "Пн")
    _choose(dialog, "longitude", "Сх")
    _choose(dialog, "occurred_at", "Коли")
    dialog.tz_combo.setCurrentText("UTC")
    dialog.date_order_combo.setCurrentIndex(dialog.date_order_combo.findData(False))  # month first
    options = dialog.options()
    assert options == {"tz": "UTC", "dayfirst": False}
    first = read_incidents(path, columns=dialog.mapping(), **options).frame["occurred_at"].iloc[0]
    assert (first.month, first.day, first.hour, first.minute) == (3, 2, 4, 30)

    dialog.tz_combo.setCurrentText("Mars/Olympus")
    assert not dialog.ok_button.isEnabled()
    assert "Mars/Olympus" in dialog.status_label.text()


def test_changing_the_encoding_shows_the_file_again(make_dialog, tmp_path):
    dialog = make_dialog(_write(tmp_path, "partner.csv", PARTNER))
    dialog.encoding_combo.setCurrentIndex(dialog.encoding_combo.findData("utf-8"))
    assert "Широта" not in dialog.preview.headers  # read wrongly: garbled headers
    assert not dialog.ok_button.isEnabled()
    dialog.encoding_combo.setCurrentIndex(dialog.encoding_combo.findData("cp1251"))
    assert dialog.combos["latitude"].currentText() == "Широта"
    assert dialog.ok_button.isEnabled()
    assert dialog.options()["encoding"] == "cp1251"


def test_unreadable_file_raises_data_error(qtbot, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty.csv: file is empty"):
        ColumnMappingDialog(path)


def test_accept_with_keyboard(make_dialog, tmp_path, qtbot):
    dialog = make_dialog(_write(tmp_path, "partner.csv", PARTNER))
    dialog.show()
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(dialog.ok_button, Qt.Key.Key_Space)


# -- in the main window -------------------------------------------------------
LOAD_WAIT = 60000


def test_file_menu_offers_open_with_mapping(make_main_window, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path = _write(tmp_path, "opaque.csv", OPAQUE)
    window = make_main_window(show=False)
    assert window.open_mapped_action in window.file_menu.actions()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.open_mapped_action.trigger()
    dialog = window.mapping_dialog
    assert isinstance(dialog, ColumnMappingDialog) and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()
    _choose(dialog, "latitude", "Пн")
    _choose(dialog, "longitude", "Сх")
    _choose(dialog, "occurred_at", "Коли")
    with qtbot.waitSignal(window.loader.idle, timeout=LOAD_WAIT):
        dialog.ok_button.click()
    assert len(window.state.frame) == 2
    assert [d.path for d in window.state.datasets] == [str(path)]


def test_missing_columns_open_the_mapping_dialog_and_rows_are_reported(make_main_window, tmp_path, qtbot):
    path = _write(tmp_path, "partner.csv", PARTNER)
    window = make_main_window(show=False)
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_WAIT) as blocker:
        window.open_files([str(path)])
    assert "no date column" in blocker.args[1]
    dialog = window.mapping_dialog
    assert isinstance(dialog, ColumnMappingDialog) and dialog.isVisible()
    assert window.message_box is None  # the dialog, not an error box, answers a missing column
    assert dialog.ok_button.isEnabled()  # the suggestions cover coordinates and date
    with qtbot.waitSignal(window.loader.idle, timeout=LOAD_WAIT):
        dialog.ok_button.click()
    report = window.state.datasets[0].report
    assert report.rows_read == 4 == report.rows_loaded + report.rows_rejected
    # the rejected rows are listed by number in the load report, which can be saved
    problems = window.report_dialog.model
    rows = {problems.data(problems.index(r, 1)) for r in range(problems.rowCount())
            if problems.data(problems.index(r, 3)) == "error"}
    assert rows == {"4", "5"}
    saved = tmp_path / "problems.txt"
    window.report_dialog.save_to(str(saved))
    text = saved.read_text(encoding="utf-8")
    assert "row 4" in text and "row 5" in text


def test_one_coordinates_column_is_enough(make_dialog, tmp_path):
    path = _write(tmp_path, "pairs.csv", "Коли;Де;Що\n03/02/2022 04:30;50.45, 30.52;Shahed-136\n")
    dialog = make_dialog(path)
    _choose(dialog, "occurred_at", "Коли")
    _choose(dialog, "latitude", None)
    _choose(dialog, "longitude", None)
    assert not dialog.ok_button.isEnabled()
    _choose(dialog, "coordinates", "Де")
    assert dialog.ok_button.isEnabled()
    frame = read_incidents(path, columns=dialog.mapping(), **dialog.options()).frame
    assert (frame.geometry.y.iloc[0], frame.geometry.x.iloc[0]) == (50.45, 30.52)


def test_place_names_alone_can_place_the_events(make_dialog, tmp_path):
    path = _write(tmp_path, "places.csv", "Коли;Місто;Що\n03/02/2022 04:30;Київ;Shahed-136\n")
    dialog = make_dialog(path)
    _choose(dialog, "occurred_at", "Коли")
    _choose(dialog, "location", None)
    assert not dialog.ok_button.isEnabled()
    assert "place-name column" in dialog.status_label.text()
    _choose(dialog, "location", "Місто")
    assert dialog.ok_button.isEnabled()
    result = read_incidents(path, columns=dialog.mapping(), **dialog.options())
    assert list(result.frame["geo_precision"]) == ["settlement"]
