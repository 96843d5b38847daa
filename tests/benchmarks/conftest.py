import pytest

_PER_EPOCH: dict[str, float] = {}


@pytest.fixture(scope="session")
def per_epoch():
    """Seconds per epoch of each way of training, filled in by the benchmarks."""
    return _PER_EPOCH


def pytest_terminal_summary(terminalreporter):
    if not _PER_EPOCH:
        return
    trainers = {k: v for k, v in _PER_EPOCH.items() if k.startswith("fast trainer")}
    terminalreporter.section("echo-lag: ms per epoch, measured in this run")
    for name, seconds in _PER_EPOCH.items():
        ratios = "" if name in trainers else ", ".join(
            f"{seconds / fast:.1f}x {trainer}" for trainer, fast in trainers.items())
        terminalreporter.write_line(f"{name:50s} {1000 * seconds:8.2f} ms  {ratios}")
