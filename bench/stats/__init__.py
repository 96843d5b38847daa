"""Statistics over seeds: estimates, paired contrasts, decisions and the tuning choice; arrays
and tables in, numbers out. May import bench.store."""
