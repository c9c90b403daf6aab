"""Repeated text kept once per distinct value (geodata.memory): same values, same answers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from geodata import FilterState
from geodata.fingerprint import row_hashes
from geodata.memory import repeated_text_as_categories
from tests.factories import canonical_frame


def _frame() -> pd.DataFrame:
    n = 40
    frame = canonical_frame(np.linspace(30, 38, n), np.linspace(46, 51, n))
    frame["admin1"] = pd.array(["Kharkivska", "Odeska", None, "Kyivska"] * (n // 4), dtype="str")
    frame["notes"] = pd.array([f"note {i}" for i in range(n)], dtype="str")  # each its own: stays text
    frame["source"] = pd.array([None] * n, dtype="str")  # nothing to share: stays text
    frame["event_id"] = pd.array(["same"] * n, dtype="str")  # ids are never a category
    return frame


def test_repeated_text_becomes_a_category_of_the_same_values():
    frame = _frame()
    compact = repeated_text_as_categories(frame)
    assert isinstance(compact["admin1"].dtype, pd.CategoricalDtype)
    for name in ("notes", "source", "event_id"):
        assert compact[name].dtype == frame[name].dtype, name
    assert compact["admin1"].astype("str").equals(frame["admin1"])
    assert frame["admin1"].dtype == "str"  # the frame given is left as it was
    assert compact.memory_usage(deep=True)["admin1"] < frame.memory_usage(deep=True)["admin1"]


def test_a_category_filters_and_hashes_as_its_text():
    frame = _frame()
    compact = repeated_text_as_categories(frame)
    for state in (FilterState(text="odes"), FilterState(admin1=["Kharkivska"]), FilterState(text="KYIV")):
        mask = state.mask(frame)
        assert 0 < mask.sum() < len(frame)
        np.testing.assert_array_equal(state.mask(compact), mask)
    np.testing.assert_array_equal(row_hashes(compact), row_hashes(frame))
    # a category with no values at all hashes as missing text does
    empty = frame.assign(source=pd.Categorical([None] * len(frame), categories=pd.Index([], dtype="str")))
    np.testing.assert_array_equal(row_hashes(empty), row_hashes(frame))
