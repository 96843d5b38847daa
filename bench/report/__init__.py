"""Reports from stored results (never training): pages, the index, analyses, figures, wording,
the scorecard and the comparison of two directories. May import bench.stats and bench.store."""
