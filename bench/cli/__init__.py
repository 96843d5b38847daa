"""The command line: parsing, each command's one call, and the checks of what it was given.
May import every other room of bench (run, report, perf, stats, store)."""
