"""The filter panel says which constraints it has no widgets for (set by a saved view or the CLI)."""
from __future__ import annotations

from geodata import FilterState
from mapviewer.panels.filters import FilterPanel


def test_oblast_filter_from_a_saved_view_is_shown_and_reset_clears_it(qtbot, loaded_state):
    panel = FilterPanel(loaded_state)
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.other_label.isVisible()

    loaded_state.set_filter(FilterState(admin1=frozenset({"Lviv Oblast"})))
    # No event is in Lviv Oblast: the count drops to 0 and the panel says why.
    assert panel.count_label.text() == "0 of 8 events"
    assert panel.other_label.isVisible()
    assert "oblast: Lviv Oblast" in panel.other_label.text()

    panel.reset()
    assert panel.count_label.text() == "8 of 8 events"
    assert not panel.other_label.isVisible()
