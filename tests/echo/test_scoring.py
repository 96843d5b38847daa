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
    from echo.framings import MISSING, Framed
    from echo.scoring import score

    X = np.array([[[1, 2, 3], [2, 3, 4]]])
    y = np.array([[[MISSING, 1, 2], [MISSING, 2, 3]]])
    predictions = np.array([[[99, 1, 2], [0, 2, 0]]])
    scores = score(predictions, Framed(X, y))
    assert scores["eval_accuracy"] == 0.75
    assert scores["eval_sequence_accuracy"] == 0.5
    assert np.isnan(scores["eval_accuracy_incomplete"])


def test_incomplete_rows_are_scored_apart():
    from echo.framings import MISSING, Framed
    from echo.scoring import score

    X = np.array([[[MISSING, 1], [1, 2], [2, 3]]])
    y = np.array([[0, 1, 2]])
    scores = score(np.array([[0, 1, 9]]), Framed(X, y))
    assert scores["eval_accuracy"] == 0.5 and scores["eval_accuracy_incomplete"] == 1.0
    assert np.isnan(scores["eval_sequence_accuracy"])
    assert score(np.array([[0, 1, 9]]), Framed(X, y), whole_history=True)["eval_accuracy"] == 2 / 3


def test_rows_before_score_from_are_scored_apart():
    from echo.framings import history
    from echo.scoring import score

    framed = history(np.arange(8)[None, :] % 5, lag=1)
    assert framed.t.tolist() == list(range(1, 8))
    predictions = framed.y.copy()
    predictions[0, 0] = 99  # wrong at t = 1 only
    every_row = score(predictions, framed, whole_history=True)
    assert every_row["eval_accuracy"] == 6 / 7 and np.isnan(every_row["eval_accuracy_incomplete"])
    from_five = score(predictions, framed, whole_history=True, score_from=5)
    assert from_five["eval_accuracy"] == 1.0 and from_five["eval_accuracy_incomplete"] == 3 / 4
