"""The tutorial's loop in a process of its own, so its Keras backend can differ from ours.

Keras picks its backend once per process; the tutorial ran on TensorFlow. A
`TutorialLoop` starts a spawned process on the requested backend, prepares a
setup there, and trains one epoch (one `model.fit`) per
`epoch()` call.
"""

import multiprocessing
import os


def _serve(connection, backend: str, seed: int, epochs: int, setup) -> None:
    os.environ["KERAS_BACKEND"] = backend
    # Imported after the backend is chosen: Keras reads it once, on its first import.
    from echo.protocol import framed_sequences, initial_model, streams
    from echo.reference import train_reference

    model = initial_model(setup, seed)
    framed = framed_sequences(setup, streams(seed)[0], epochs)

    def train(epoch):
        train_reference(model, framed.X[epoch:epoch + 1], framed.y[epoch:epoch + 1],
                        missing_value=setup.missing_value, reset_per_sequence=not setup.carry_state)

    train(0)
    connection.send("ready")
    while (epoch := connection.recv()) is not None:
        train(epoch)
        connection.send(epoch)


class TutorialLoop:
    """One epoch of `setup` per call, trained by the tutorial's loop on `backend`."""

    def __init__(self, setup, backend: str = "tensorflow", seed: int = 0, epochs: int = 2000):
        self.epochs = epochs
        self._next = 0
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, daemon=True,
                                        args=(child, backend, seed, epochs, setup))
        self._process.start()
        if self._connection.recv() != "ready":
            raise RuntimeError("the tutorial loop's process did not start")

    def epoch(self) -> None:
        self._connection.send(self._next % self.epochs)
        self._connection.recv()
        self._next += 1

    def close(self) -> None:
        self._connection.send(None)
        self._process.join(timeout=30)
