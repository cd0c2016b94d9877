"""Outcome measures: anonymised counts the partnership can trust."""
