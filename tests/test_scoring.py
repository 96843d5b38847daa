import numpy as np

from echo.scoring import epochs_to_reach


def test_first_epoch_whose_trailing_mean_reaches_the_threshold():
    accuracy = np.r_[np.zeros(30), np.ones(50)]
    assert epochs_to_reach(accuracy, 0.99, span=10) == 40


def test_one_lucky_epoch_does_not_count():
    accuracy = np.r_[np.zeros(30), 1.0, np.zeros(30)]
    assert np.isnan(epochs_to_reach(accuracy, 0.99, span=10))


def test_runs_shorter_than_the_span_never_reach():
    assert np.isnan(epochs_to_reach(np.ones(5), span=10))
