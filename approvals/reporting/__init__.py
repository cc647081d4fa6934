"""Reporting pieces the costs dashboard and the review analytics share: date periods and bar charts."""
