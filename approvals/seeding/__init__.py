"""Rows the way the pipeline writes them: the demo, and millions for benchmarks."""
