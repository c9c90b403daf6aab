"""Fingerprints of data files and rows: stable across re-reads, row order and dtypes; changes counted (no Qt)."""
from __future__ import annotations

import pandas as pd
import pytest

from geodata.errors import DataError
from geodata.fingerprint import (
    compare_rows,
    row_hashes,
    rows_digest,
    rows_fingerprint,
    rows_fingerprint_from_dict,
    source_change,
    source_fingerprint,
)
from geodata.sample import make_sample


@pytest.fixture(scope="module")
def sample():
    return make_sample(n=300)


def test_the_same_rows_in_any_order_and_dtype_give_the_same_digest(sample):
    plain = sample.copy()
    for name in ("outcome", "munition_class", "time_precision", "geo_precision", "event_id", "notes"):
        plain[name] = plain[name].astype(object)  # categories and strings as plain Python objects
    plain["occurred_at"] = plain["occurred_at"].dt.as_unit("us")  # another time resolution, the same instants
    plain["extra"] = 1  # columns outside the canonical schema are not hashed
    assert rows_digest(plain.iloc[::-1]) == rows_digest(sample)


@pytest.mark.parametrize("column, value", [
    ("notes", ""),  # empty text is not missing text
    ("killed", 0),  # zero killed is not an unknown count
    ("munition", "NA"),
])
def test_a_missing_value_differs_from_any_value(sample, column, value):
    rows = sample.iloc[:3].copy()
    rows[column] = rows[column].astype(object)
    rows.loc[rows.index[0], column] = None
    other = rows.copy()
    other.loc[other.index[0], column] = value
    assert row_hashes(rows)[0] != row_hashes(other)[0]
    assert (row_hashes(rows)[1:] == row_hashes(other)[1:]).all()


def test_changes_are_counted_by_event_id(sample):
    saved = rows_fingerprint(sample)
    now = sample.iloc[2:].copy()  # two removed
    now.loc[now.index[0], "outcome"] = "debris"  # one changed
    now.loc[now.index[1], "geometry"] = now.geometry.iloc[1].__class__(30.0, 50.0)  # one moved: changed
    added = sample.iloc[:1].copy()
    added["event_id"] = "NEW"
    now = pd.concat([now, added])  # one added
    changes = compare_rows(saved, now)
    assert (changes.added, changes.removed, changes.changed) == (1, 2, 2)
    assert changes.words() == "1 row added, 2 removed, 2 changed (300 when saved, 299 now)"
    assert compare_rows(saved, sample).same


def test_a_fingerprint_survives_its_json_form_and_rejects_a_damaged_one(sample):
    saved = rows_fingerprint(sample)
    assert rows_fingerprint_from_dict(saved.to_dict(), "view [rows]") == saved
    damaged = saved.to_dict() | {"pairs": saved.pairs[:-12]}
    with pytest.raises(DataError, match=r"view \[rows\]"):
        rows_fingerprint_from_dict(damaged, "view [rows]")


def test_a_source_changes_with_its_bytes_not_its_time(tmp_path):
    path = tmp_path / "night.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    saved = source_fingerprint(path)
    assert saved.size == 8 and len(saved.sha256) == 64
    path.write_text("a,b\n1,2\n", encoding="utf-8")  # rewritten, the same bytes
    assert source_change(saved, path) is None
    path.write_text("a,b\n1,3\n", encoding="utf-8")
    assert source_change(saved, path).startswith("changed: same size, other content, modified ")
    path.write_text("a,b\n1,30\n", encoding="utf-8")
    assert source_change(saved, path).startswith("changed: 8 bytes when saved, 9 now")
    assert source_fingerprint("postgresql://analyst@db/strikes").sha256 is None  # a database: its rows tell
