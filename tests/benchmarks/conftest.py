import pytest

_PER_EPOCH: dict[str, float] = {}
_STORED: dict[str, float] = {}
_COMPILED: dict[str, float] = {}
_INPUTS: dict[int, dict[str, float]] = {}
_FIRST_MODEL: dict[str, float] = {}


@pytest.fixture(scope="session")
def per_epoch():
    """Seconds per seed-epoch of each way of training, filled in by the benchmarks."""
    return _PER_EPOCH


@pytest.fixture(scope="session")
def stored_per_seed():
    """Seconds per seed of storing a chunk's runs, each way, filled in by the benchmarks."""
    return _STORED


@pytest.fixture(scope="session")
def compiled():
    """A command's compile seconds, cold and warm (its compile cache filled), filled in by the
    benchmarks."""
    return _COMPILED


@pytest.fixture(scope="session")
def first_model():
    """Seconds to build a process's first echo-lag model, drawn by Keras and as a template, filled
    in by the benchmarks."""
    return _FIRST_MODEL


@pytest.fixture(scope="session")
def inputs():
    """Seconds per seed-epoch of echo-lag's training program with its one-hot input multiplied
    out and gathered, by the number of seeds mapped over, filled in by the benchmarks."""
    return _INPUTS


def pytest_terminal_summary(terminalreporter):
    """Every measurement with its speed-up over each tutorial loop and over the per-seed
    engine's ten seeds: ratios of things measured in this run, which is what to compare."""
    if len(_STORED) == 2:
        terminalreporter.section("storing 64 runs of echo-lag: ms per seed, measured in this run")
        for name, seconds in _STORED.items():
            terminalreporter.write_line(f"{name:20s} {1000 * seconds:8.3f} ms")
        terminalreporter.write_line(f"as one chunk: {_STORED['one by one'] / _STORED['as one chunk']:.1f}x "
                                    "faster than one by one")
    if len(_COMPILED) == 2:
        terminalreporter.section("bench run echo-lag, 1 seed: compile seconds, measured in this run")
        terminalreporter.write_line(f"cold {_COMPILED['cold']:.2f} s, warm {_COMPILED['warm']:.2f} s "
                                    f"({_COMPILED['warm'] / _COMPILED['cold']:.0%} of cold)")
    if len(_FIRST_MODEL) == 2:
        terminalreporter.section("a process's first echo-lag model: seconds, measured in this run")
        terminalreporter.write_line(f"drawn by Keras {_FIRST_MODEL['drawn']:.2f} s, template "
                                    f"{_FIRST_MODEL['template']:.2f} s "
                                    f"({_FIRST_MODEL['template'] / _FIRST_MODEL['drawn']:.0%})")
    if _INPUTS:
        terminalreporter.section("echo-lag's training program: ms per seed-epoch, measured in this run")
        for seeds, timed in _INPUTS.items():
            terminalreporter.write_line(
                f"{seeds:5d} seeds: one-hot products {1000 * timed['one-hot products']:8.4f} ms, "
                f"gathered {1000 * timed['gathered']:8.4f} ms "
                f"({timed['one-hot products'] / timed['gathered']:.2f}x faster)")
    if not _PER_EPOCH:
        return
    engines = [k for k in _PER_EPOCH if k.startswith("engine")]
    setup = {k: v for k, v in _PER_EPOCH.items() if k.startswith("set-up")}
    references = {k: v for k, v in _PER_EPOCH.items() if k not in engines and k not in setup}
    references.update({k: v for k, v in _PER_EPOCH.items() if "10 seeds" in k})
    terminalreporter.section("echo-lag: ms per seed-epoch, measured in this run")
    for name, seconds in _PER_EPOCH.items():
        ratios = "" if name not in engines else ", ".join(
            f"{slower / seconds:.1f}x faster than {reference}"
            for reference, slower in references.items() if reference != name)
        if name in setup:
            trained = [v for k, v in _PER_EPOCH.items() if k.startswith("engine vectorized")]
            ratios = f"{seconds / trained[0]:.1%} of the vectorized engine's training" if trained else ""
        terminalreporter.write_line(f"{name:58s} {1000 * seconds:8.3f} ms  {ratios}")
