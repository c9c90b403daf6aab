"""The panels around the map: filters, summary, table, timeline and playback, attack waves."""
