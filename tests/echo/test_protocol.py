import numpy as np

from echo.protocol import run, streams
from echo.setup import Setup

SHORT = Setup(epochs=12, eval_sequences=4)


def test_a_run_is_a_pure_function_of_setup_and_seed():
    first, second = run(SHORT, 3), run(SHORT, 3)
    np.testing.assert_array_equal(first.curves.loss, second.curves.loss)
    assert first.eval_accuracy == second.eval_accuracy
    assert first.final_loss == second.final_loss


def test_other_seeds_give_other_runs():
    assert not np.array_equal(run(SHORT, 0).curves.loss, run(SHORT, 1).curves.loss)


def test_training_and_evaluation_streams_are_disjoint():
    train_rng, eval_rng = streams(0)
    assert not np.array_equal(train_rng.integers(0, 100, 50), eval_rng.integers(0, 100, 50))


def test_curves_have_one_point_per_epoch():
    result = run(SHORT.replace(framing="current", batch_size=1, stateful=False, units=4), 0)
    assert result.curves.loss.shape == result.curves.accuracy.shape == (12,)
    assert 0 <= result.eval_accuracy <= 1 and result.train_seconds > 0
