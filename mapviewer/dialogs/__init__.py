"""Dialogs: load report, column mapping, exports."""
