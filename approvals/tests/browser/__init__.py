"""Tests of the reviewer pages in a real browser (Chromium)."""
