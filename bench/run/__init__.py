"""Running a command's tasks: the plan, the rounds of seeds, the session, the workers (loky or
Dask) and the compile cache they share. May import bench.stats and bench.store."""
