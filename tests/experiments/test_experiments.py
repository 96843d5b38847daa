"""Every experiment is well formed, and the extensions' variants differ as they claim."""

import numpy as np
import pytest

from echo.experiment import Contrast, Experiment
from echo.protocol import run
from echo.setup import Setup
from experiments import discover

EXPERIMENTS = discover()  # the declared experiments, by name

ALL_VARIANTS = [(e.name, v, s) for e in EXPERIMENTS.values() for v, s in e.variants.items()]


@pytest.mark.parametrize("experiment, variant, setup", ALL_VARIANTS,
                         ids=[f"{e}/{v}" for e, v, _ in ALL_VARIANTS])
def test_every_variant_fills_whole_batches(experiment, variant, setup):
    framed = setup.probe()
    assert framed.X.shape[1] % setup.batch_size == 0


def test_every_experiment_has_a_question_and_its_baseline():
    for experiment in EXPERIMENTS.values():
        assert experiment.question and experiment.baseline in experiment.variants


def test_lag_grid_covers_lags_1_to_8_and_five_sizes():
    variants = EXPERIMENTS["lag"].variants.values()
    assert {s.lag for s in variants} == set(range(1, 9))
    assert {s.units for s in variants} == {5, 10, 25, 50, 100}
    assert all(s.window > s.lag for s in variants)


def test_ignore_state_variants_train_differently():
    variants = EXPERIMENTS["ignore-state"].variants
    losses = {name: run(setup.replace(epochs=6, eval_sequences=2), 0).curves.loss
              for name, setup in variants.items()}
    assert not np.allclose(losses["stateful-reset"], losses["stateless"])
    assert not np.allclose(losses["stateful-reset"], losses["stateful-carry"])
    np.testing.assert_array_equal(losses["stateful-reset"][0], losses["stateful-carry"][0])


def test_carrying_state_needs_a_stateful_layer():
    with pytest.raises(ValueError, match="stateful"):
        Setup(stateful=False, carry_state=True)


def test_experiments_with_several_variants_declare_contrasts_or_a_trend_analysis():
    for experiment in EXPERIMENTS.values():
        if len(experiment.variants) > 1:
            assert experiment.contrasts or experiment.analysis, experiment.name
        for contrast in experiment.contrasts:
            assert {contrast.variant, contrast.reference} <= set(experiment.variants)


def test_a_contrast_must_name_two_variants_of_its_experiment():
    with pytest.raises(ValueError, match="must name two different variants"):
        Experiment(name="x", question="?", variants={"a": Setup()},
                   contrasts=(Contrast("a", "missing"),))


def test_every_module_of_the_package_is_registered_in_order():
    """A module left out of experiments.MODULES would be silently missing from every command."""
    import pkgutil

    import experiments

    assert sorted(experiments.MODULES) == sorted(i.name for i in pkgutil.iter_modules(experiments.__path__))
    assert list(EXPERIMENTS)[:3] == ["echo-current", "beginners-mistake", "echo-lag"]
