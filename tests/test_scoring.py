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


def test_sequence_scores_leave_out_missing_targets():
    from echo.framings import Framed, MISSING
    from echo.scoring import score

    X = np.array([[[1, 2, 3], [2, 3, 4]]])
    y = np.array([[[MISSING, 1, 2], [MISSING, 2, 3]]])
    predictions = np.array([[[99, 1, 2], [0, 2, 0]]])
    scores = score(predictions, Framed(X, y))
    assert scores["eval_accuracy"] == 0.75
    assert scores["eval_sequence_accuracy"] == 0.5
    assert np.isnan(scores["eval_accuracy_incomplete"])


def test_incomplete_rows_are_scored_apart():
    from echo.framings import Framed, MISSING
    from echo.scoring import score

    X = np.array([[[MISSING, 1], [1, 2], [2, 3]]])
    y = np.array([[0, 1, 2]])
    scores = score(np.array([[0, 1, 9]]), Framed(X, y))
    assert scores["eval_accuracy"] == 0.5 and scores["eval_accuracy_incomplete"] == 1.0
    assert np.isnan(scores["eval_sequence_accuracy"])
    assert score(np.array([[0, 1, 9]]), Framed(X, y), whole_history=True)["eval_accuracy"] == 2 / 3
