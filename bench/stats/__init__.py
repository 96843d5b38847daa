"""Statistics over seeds: estimates, paired contrasts, decisions, the learning rate as a
factor; arrays and tables in, numbers out. May import bench.store."""
