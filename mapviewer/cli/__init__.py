"""Command line: the app launcher, inspect, export and their terminal helpers."""
