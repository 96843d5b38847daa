"""Speed measurements: `bench speed`, the tutorial's own loop, the one-hot products against
gathers. May import bench.run and bench.store."""
