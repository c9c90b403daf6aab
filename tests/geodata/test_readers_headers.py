"""Headers in plain words (English, Ukrainian, Russian) and munition cells that name no munition."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geodata import read_incidents


def load(tmp_path: Path, header: str, *rows: str, name: str = "plain.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return read_incidents(path)


def mappings(report) -> dict[str, str]:
    """{header: message} of the file-level notes that say which header was read as what."""
    return {p.column: p.message for p in report.problems if p.row is None and " read as " in p.message}


TARGETS = ["occurred_at", "latitude", "longitude", "munition", "outcome", "killed", "injured"]


@pytest.mark.parametrize(("headers", "row"), [
    (["Date of attack", "Lat", "Long", "Weapon", "Result", "Dead", "Wounded"],
     "2025-09-29 23:40,50.45,30.52,KN-23,hit,2,5"),
    (["Дата", "Широта", "Довгота", "Зброя", "Результат", "Загинули", "Поранені"],
     "29.09.2025 23:40,50.45,30.52,KN-23,влучання,2,5"),
    (["Дата", "Широта", "Долгота", "Оружие", "Итог", "Погибшие", "Раненые"],
     "29.09.2025 23:40,50.45,30.52,KN-23,попадание,2,5"),
    (["Date (local)", "Latitude (WGS84)", "Long.", "Weapon used", "Outcome", "Killed, n", "Injured (people)"],
     "2025-09-29 23:40,50.45,30.52,KN-23,impact,2,5"),
])
def test_plain_header_words_are_read_without_a_mapping(tmp_path: Path, headers: list[str], row: str) -> None:
    result = load(tmp_path, ",".join(f'"{h}"' for h in headers), row)
    frame, report = result.frame, result.report
    assert report.rows_loaded == 1 and not report.errors
    event = frame.iloc[0]
    assert (event["munition"], event["outcome"], event["killed"], event["injured"]) == ("KN-23", "impact", 2, 5)
    assert (event.geometry.y, event.geometry.x) == (50.45, 30.52)
    assert event["occurred_at"] == pd.Timestamp("2025-09-29 20:40", tz="UTC")  # 23:40 in Kyiv
    # the report names each header and what it was read as (file-level notes)
    said = mappings(report)
    for header, target in zip(headers, TARGETS):
        if header.lower() != target:
            assert said[header] == f"column {header!r} read as {target}"
    assert all(p.severity == "warning" for p in report.problems if p.column in said)


def test_canonical_headers_need_no_mapping_note(tmp_path: Path) -> None:
    result = load(tmp_path, "occurred_at,latitude,longitude,munition", "2025-09-29,50.45,30.52,KN-23")
    assert mappings(result.report) == {}


def test_a_usual_name_wins_over_one_read_past_its_brackets(tmp_path: Path) -> None:
    result = load(tmp_path, "ID (old),date,lat,lon,id", "x1,2025-09-29,50.45,30.52,e1")
    assert result.frame.iloc[0]["event_id"] == "e1"
    assert result.frame.iloc[0]["ID (old)"] == "x1"


def test_links_and_placeholders_are_no_munition_and_keep_their_text(tmp_path: Path) -> None:
    values = ["KN-23", "https://t.me/source/123", "missing link", "n/a", "-", "unknown", "?", "Невідомо"]
    rows = [f"2025-09-29,50.45,30.52,{v}" for v in values]
    result = load(tmp_path, "date,lat,lon,munition", *rows)
    frame, report = result.frame, result.report
    assert report.rows_loaded == len(values)  # kept: the events are real, only the munition is not named
    assert frame["munition"].tolist()[0] == "KN-23"
    assert frame["munition"].iloc[1:].isna().all()  # so no facet or summary lists them as munitions
    assert (frame["munition_class"].iloc[1:] == "unknown").all()
    assert pd.isna(frame["munition_raw"].iloc[0]) and frame["munition_raw"].iloc[1:].tolist() == values[1:]
    said = {p.row: p.message for p in report.warnings if p.column == "munition"}
    assert said[3] == ("munition 'https://t.me/source/123' is a link, not a munition: no munition named "
                       "(the text is kept in munition_raw), class unknown")
    assert "is a placeholder, not a munition" in said[4] and "'missing link'" in said[4]
    assert set(said) == set(range(3, 3 + len(values) - 1))


def test_a_class_the_file_states_is_kept_for_a_placeholder_munition(tmp_path: Path) -> None:
    result = load(tmp_path, "date,lat,lon,munition,munition_class", "2025-09-29,50.45,30.52,n/a,cruise missile")
    event = result.frame.iloc[0]
    assert pd.isna(event["munition"]) and event["munition_class"] == "cruise missile"
    assert "class from the file: cruise missile" in result.report.warnings[-1].message


def test_no_raw_munition_column_when_every_value_may_name_one(tmp_path: Path) -> None:
    result = load(tmp_path, "date,lat,lon,munition", "2025-09-29,50.45,30.52,KN-23", "2025-09-29,50.45,30.52,Zzz-9")
    assert "munition_raw" not in result.frame.columns
    assert result.frame["munition"].tolist() == ["KN-23", "Zzz-9"]  # unknown names stay as written
