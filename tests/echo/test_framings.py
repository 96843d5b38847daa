"""The framings' exact pairs for the sequence 1..10, as the tutorial tabulates them."""

import numpy as np
import pytest

from echo import framings
from echo.encoding import encode
from echo.framings import MISSING

ONE_TO_TEN = np.arange(1, 11)


def pairs(framed):
    return [(list(x), int(y)) for x, y in zip(framed.X, framed.y)]


def test_current_echoes_each_value():
    assert pairs(framings.current(ONE_TO_TEN)) == [([v], v) for v in range(1, 11)]


def test_lag_without_context_drops_the_first_pair():
    assert pairs(framings.lag_without_context(ONE_TO_TEN)) == [([v], v - 1) for v in range(2, 11)]


def test_lag_with_window_as_the_tutorial():
    got = pairs(framings.lag_with_window(ONE_TO_TEN, window=5, lag=1))
    assert got == [
        ([2, 3, 4, 5, 6], 5),
        ([3, 4, 5, 6, 7], 6),
        ([4, 5, 6, 7, 8], 7),
        ([5, 6, 7, 8, 9], 8),
        ([6, 7, 8, 9, 10], 9),
    ]


def test_lag_with_window_for_a_longer_lag():
    got = pairs(framings.lag_with_window(ONE_TO_TEN, window=4, lag=3))
    assert got[0] == ([2, 3, 4, 5], 2)
    assert all(y == x[-1] - 3 for x, y in got)


def test_keep_incomplete_rows_marks_steps_before_the_start():
    got = pairs(framings.lag_with_window(ONE_TO_TEN, window=3, lag=1, keep_incomplete=True))
    assert got[:3] == [([MISSING, 1, 2], 1), ([1, 2, 3], 2), ([2, 3, 4], 3)]
    assert len(got) == 9


@pytest.mark.parametrize("framing, count", [
    (framings.current, 25),
    (framings.lag_without_context, 24),
    (lambda s: framings.lag_with_window(s, 5, 1), 20),
])
def test_pair_counts_for_the_tutorials_length(framing, count):
    stack = np.random.default_rng(0).integers(0, 100, (3, 25))
    framed = framing(stack)
    assert framed.X.shape[:2] == (3, count) and framed.y.shape == (3, count)


def test_framings_are_vectorised_over_sequences():
    stack = np.stack([ONE_TO_TEN, ONE_TO_TEN + 10])
    framed = framings.lag_with_window(stack, 5, 1)
    assert pairs(framings.Framed(framed.X[1], framed.y[1]))[0] == ([12, 13, 14, 15, 16], 15)


@pytest.mark.parametrize("window, lag", [(5, 0), (5, 5), (3, 4)])
def test_bad_lags_are_refused(window, lag):
    with pytest.raises(ValueError):
        framings.lag_with_window(ONE_TO_TEN, window, lag)


def test_encode_marks_missing_steps_in_every_feature():
    encoded = np.asarray(encode(np.array([[MISSING, 2]]), 4, missing_value=-1.0))
    np.testing.assert_array_equal(encoded[0], [[-1, -1, -1, -1], [0, 0, 1, 0]])


def test_history_pre_pads_the_whole_past_to_the_sequence_length():
    got = pairs(framings.history(np.arange(1, 6), lag=1))
    assert got == [
        ([MISSING, MISSING, MISSING, 1, 2], 1),
        ([MISSING, MISSING, 1, 2, 3], 2),
        ([MISSING, 1, 2, 3, 4], 3),
        ([1, 2, 3, 4, 5], 4),
    ]


def test_lag_sequence_echoes_every_step_and_hides_the_unseen_ones():
    framed = framings.lag_sequence(ONE_TO_TEN, window=5, lag=2)
    assert framed.X[0].tolist() == [2, 3, 4, 5, 6]
    assert framed.y[0].tolist() == [MISSING, MISSING, 2, 3, 4]
    assert framed.y.shape == (5, 5)


def test_a_delay_line_feeds_whole_pieces_and_echoes_every_step_from_the_lag_on():
    framed = framings.delay_line(ONE_TO_TEN, window=4, lag=2)  # pieces 1-4, 5-8; 9, 10 unused
    assert framed.X.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert framed.y.tolist() == [[MISSING, MISSING, 1, 2], [MISSING, MISSING, 5, 6]]
    assert framed.t.tolist() == [3, 7]  # each piece's last step
    stacked = framings.delay_line(np.stack([ONE_TO_TEN, ONE_TO_TEN + 10]), window=5, lag=1)
    assert stacked.X.shape == (2, 2, 5) and stacked.y[1, 1].tolist() == [MISSING, 16, 17, 18, 19]
    with pytest.raises(ValueError, match="must be longer than the lag"):
        framings.delay_line(ONE_TO_TEN, window=3, lag=3)


def test_last_values_are_the_windows_tail_in_order():
    framed = framings.last_values(ONE_TO_TEN, window=5, count=3)
    assert framed.y[0].tolist() == [4, 5, 6] and framed.y[-1].tolist() == [8, 9, 10]


def test_every_framing_knows_the_time_step_of_its_rows():
    sequences = np.arange(10)[None, :]
    assert framings.current(sequences).t.tolist() == list(range(10))
    assert framings.lag_without_context(sequences, 2).t.tolist() == list(range(2, 10))
    assert framings.lag_with_window(sequences, 5, 1).t.tolist() == list(range(5, 10))
    assert framings.lag_with_window(sequences, 5, 2, keep_incomplete=True).t.tolist() == list(range(2, 10))
    assert framings.history(sequences, 3).t.tolist() == list(range(3, 10))
    for framed in (framings.lag_sequence(sequences, 5, 2), framings.last_values(sequences, 5, 3)):
        assert framed.t.tolist() == list(range(5, 10))
    framed = framings.lag_with_window(sequences, 3, 1)
    np.testing.assert_array_equal(framed.X[0, :, -1], framed.t)  # the last step is X(t)


def test_a_new_framing_is_one_record(monkeypatch):
    from echo.setup import FRAMINGS, Framing, Setup

    reverse = Framing(lambda s, setup: framings.lag_with_window(s[..., ::-1], setup.window, setup.lag),
                      lambda setup: f"reversed, window {setup.window}")
    monkeypatch.setitem(FRAMINGS, "reverse", reverse)
    setup = Setup(framing="reverse", epochs=3)
    assert "reversed, window 5" in setup.describe()
    assert setup.probe().X.shape == (1, 20, 5) and setup.model_spec().head == "last"
    assert not setup.whole_history


def test_a_runs_least_memory_is_bounded_from_its_settings_before_anything_is_allocated():
    from echo.setup import Setup

    setup = Setup(length=100, epochs=10, eval_sequences=5, units=8, n_unique=10, batch_size=5)
    assert setup.least_bytes() == {"its sequences": 15 * 100 * 4, "a framed sequence": 0,
                                   "a batch's one-hot input": 5 * 10 * 4,
                                   "its weights": 16 * (4 * 8 * (8 + 10) + 8 * 10)}
    history = setup.replace(framing="history", missing="mask", lag=1)
    assert history.least_bytes()["a framed sequence"] == 100 * 99 * 4
    setup.check_memory(sum(setup.least_bytes().values()))  # exactly enough
    with pytest.raises(ValueError, match=r"most for its weights\), more than this machine's"):
        setup.replace(units=1000).check_memory(10**6)
