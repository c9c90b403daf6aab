"""Inputs that are not what they seem: not a file, a huge cell, a file cut short, a NUL byte."""
from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import pytest

from geodata import DataError, read_incidents
from geodata.readers import textfile
from geodata.readers.preview import preview_table
from geodata.waves import read_waves

HEADER = "event_id,date,lat,lon,munition,notes,killed\n"


def row(n: int, notes: str = "night attack", killed: str = "12") -> str:
    return f"e{n},2024-06-02 01:{n % 60:02d},50.45,30.52,KN-23,{notes},{killed}\n"


def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# --- things that are not a regular file ----------------------------------------------------------

READS = {
    "read_incidents": read_incidents,
    "read_incidents as csv": lambda p: read_incidents(p, format="csv"),
    "read_incidents as timemap": lambda p: read_incidents(p, format="timemap"),
    "preview_table": preview_table,
    "read_waves": read_waves,
}


def _error_within(read, path: Path, seconds: float = 20) -> str:
    """The DataError message of ``read(path)``; the test fails (instead of hanging) if it blocks."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            read(path)
            outcome.append(None)
        except BaseException as exc:  # handed to the test below
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        if path.is_fifo():  # a writer lets a reader blocked in open() go
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"reading {path} did not return within {seconds} s")
    assert isinstance(outcome[0], DataError), outcome[0]
    return str(outcome[0])


@pytest.mark.parametrize("how", list(READS))
def test_a_folder_a_missing_file_and_a_dangling_link_each_say_what_they_are(tmp_path: Path, how: str) -> None:
    folder = tmp_path / "events.csv"
    folder.mkdir()
    assert _error_within(READS[how], folder) == f"{folder}: is a folder, not a file"
    missing = tmp_path / "missing.csv"
    assert _error_within(READS[how], missing) == f"{missing}: file not found"
    if hasattr(os, "symlink"):
        dangling = tmp_path / "dangling.csv"
        dangling.symlink_to(tmp_path / "gone.csv")
        assert "symbolic link to a file that does not exist" in _error_within(READS[how], dangling)
        loop = tmp_path / "loop.csv"
        loop.symlink_to(loop)
        assert "symbolic link loop" in _error_within(READS[how], loop)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
@pytest.mark.parametrize("how", list(READS))
def test_a_named_pipe_is_refused_at_once_not_waited_on(tmp_path: Path, how: str) -> None:
    pipe = tmp_path / "events.csv"
    os.mkfifo(pipe)
    message = _error_within(READS[how], pipe)
    assert "named pipe" in message and "not found" not in message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_an_endless_device_is_refused() -> None:
    message = _error_within(read_incidents, Path("/dev/zero"))
    assert message == "/dev/zero: is a device, not a regular file: not read"


# --- long cells ----------------------------------------------------------------------------------


def test_long_notes_load_and_only_a_cell_over_the_limit_rejects_its_row(tmp_path: Path) -> None:
    long_notes = "a" * 900_000  # about 450 printed pages: kept whole
    cyrillic = "ж" * 900_000  # 1.8 MB of UTF-8, still under the limit in characters
    too_long = "b" * 3_000_000
    path = write(tmp_path, HEADER + row(1) + row(2, f'"{long_notes}"') + row(3, too_long) + row(4, cyrillic)
                 + row(5))
    result = read_incidents(path)
    report = result.report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 4, 1)
    assert result.frame.loc[3, "notes"] == long_notes and result.frame.loc[5, "notes"] == cyrillic
    [error] = report.errors
    assert (error.row, error.column) == (4, "notes")
    assert "3,000,000 characters" in error.message and f"{textfile.MAX_CELL_CHARS:,}" in error.message


def test_a_row_far_over_the_limit_is_skipped_without_being_kept(tmp_path: Path, monkeypatch) -> None:
    # limits made small so that a 20 MB line stands for a 2 GB one: it must never be held whole
    monkeypatch.setattr(textfile, "MAX_ROW_CHARS", 100_000)
    monkeypatch.setattr(textfile, "MAX_CELL_CHARS", 50_000)
    path = tmp_path / "huge.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + row(1) + "e2,2024-06-02,50.45,30.52,KN-23,")
        for _ in range(20):
            f.write("x" * 1_000_000)
        f.write(",3\n" + row(3))
    tracemalloc.start()
    try:
        result = read_incidents(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # the line is 20 MB
    report = result.report
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    [error] = report.errors
    assert (error.row, error.column) == (3, "notes") and "longer than 100,000 characters" in error.message


# --- files cut short -----------------------------------------------------------------------------


def test_a_count_cut_short_at_the_end_of_the_file_is_loaded_with_a_warning(tmp_path: Path) -> None:
    # "12" cut to "1" by an interrupted copy: the value is plausible, so only the missing line break tells
    path = write(tmp_path, HEADER + row(1) + row(2) + "e3,2024-06-02 03:00,50.45,30.52,KN-23,night attack,1")
    result = read_incidents(path)
    assert result.frame.loc[4, "killed"] == 1
    [warning] = [p for p in result.report.warnings if p.row == 4]
    assert "ends without a line break" in warning.message and "cut short" in warning.message
    complete = write(tmp_path, HEADER + row(1) + row(2), name="complete.csv")
    assert not [p for p in read_incidents(complete).report.problems if "line break" in p.message]


def test_a_file_cut_inside_its_last_quoted_value_says_so_on_that_row(tmp_path: Path) -> None:
    cut = ("event_id,date,lat,lon,munition,killed,notes\n"
           'e1,2024-06-02 01:00,50.45,30.52,KN-23,1,"quoted, as notes with commas are"\n'
           'e2,2024-06-02 02:00,50.45,30.52,KN-23,5,"Debris')
    result = read_incidents(write(tmp_path, cut))
    report = result.report
    assert report.rows_read == 2
    [warning] = [p for p in report.warnings if p.row == 3]
    assert "ends inside a quoted value" in warning.message
    assert result.frame.loc[3, "notes"] == "Debris"  # what was there, flagged


def test_a_truncated_file_with_rows_of_many_lines_is_read_record_by_record(tmp_path: Path) -> None:
    # a quoted note over two lines, then the file stops inside the next quoted note
    text = HEADER + row(1, '"first line\nsecond line"') + row(2) + 'e3,2024-06-02,50.45,30.52,KN-23,"cut\nhere'
    result = read_incidents(write(tmp_path, text))
    report = result.report
    assert result.frame.loc[2, "notes"] == "first line\nsecond line"
    assert (report.rows_read, report.rows_rejected) == (3, 1)  # the cut row lacks its last field
    messages = [p.message for p in report.problems if p.row == 4]
    assert any("ends inside a quoted value" in m for m in messages)
    assert "expected 7 fields, found 6" in messages


# --- NUL bytes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("before", [1, 5000])  # in the first 64 KB, and far below it
def test_a_nul_byte_rejects_its_row_and_names_it(tmp_path: Path, before: int) -> None:
    rows = "".join(row(n) for n in range(1, before + 1))
    path = write(tmp_path, HEADER + rows + "e0,2024-06-02 04:00,50.45,30.52,KN-23,night,1\x002\n" + row(before + 1))
    report = read_incidents(path).report
    assert (report.rows_loaded, report.rows_rejected) == (before + 1, 1)
    [error] = report.errors
    assert (error.row, error.column) == (before + 2, "killed") and "NUL byte" in error.message


def test_binary_files_are_still_refused_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
    with pytest.raises(DataError, match="binary content"):
        read_incidents(path)


def test_the_source_readers_share_the_bounds(tmp_path: Path) -> None:
    waves = write(tmp_path, "time_start,time_end,model,launched,destroyed,not_reach_goal,source\n"
                  "2025-06-01 19:00,2025-06-02 09:00,Shahed-136,57,53,,x\n"
                  "2025-06-02 19:00,2025-06-03 09:00,Shahed\x00-136,20,18,,x\n"
                  "2025-06-03 19:00,2025-06-04 09:00,Shahed-136,30,2,,h", name="missile_attacks_daily.csv")
    result = read_waves(waves)
    report = result.report
    assert list(result.frame.index) == [2, 4]
    assert report.rows_read == report.rows_loaded + report.rows_rejected == 3
    assert any(p.row == 3 and p.column == "model" and "NUL byte" in p.message for p in report.errors)
    assert any(p.row == 4 and "cut short" in p.message for p in report.warnings)
