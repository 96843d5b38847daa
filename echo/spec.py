"""What a model is, without Keras: the cells by name, the heads, and the `ModelSpec` a setup
trains. The command line, the store and the reports read and check it without loading Keras;
`echo.models` builds it."""

from dataclasses import dataclass

# Keras's recurrent layers by name (echo.cells makes them); any other is 'package.module:Name'.
KERAS_CELLS = ("lstm", "gru", "simple_rnn")
# How reports name them; a user's layer goes by its class's name.
KERAS_LABELS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}
UNROLL_UP_TO = 10
# What the network outputs: one value (the last step's), a value at every input
# step, or `out_steps` values decoded from the encoder's summary of the window.
HEADS = ("last", "sequence", "encoder_decoder")


def user_cell(cell: str) -> bool:
    """Whether `cell` names a user's layer ('package.module:Name') rather than one of Keras's."""
    return ":" in cell


def cell_label(cell: str) -> str:
    """How a report names `cell`: LSTM, GRU, SimpleRNN, or a user's layer's class name."""
    return KERAS_LABELS.get(cell, cell.rpartition(":")[2])


def cell_problem(cell: str) -> str | None:
    """Why `cell` names no cell (one of KERAS_CELLS, or 'package.module:Name'), or None."""
    module, colon, name = cell.partition(":")
    importable = all(part.isidentifier() for part in module.split(".")) and name.isidentifier()
    if cell in KERAS_CELLS or (colon and importable):
        return None
    return (f"unknown cell {cell!r}; choose from {', '.join(KERAS_CELLS)}, or name an importable "
            "layer or cell as package.module:Name")


@dataclass(frozen=True)
class ModelSpec:
    """What the tutorial varies: the cell, its units, statefulness and the input's shape."""

    units: int = 50
    timesteps: int = 5
    batch_size: int = 5
    stateful: bool = True
    cell: str = "lstm"
    n_unique: int = 100
    learning_rate: float = 1e-3
    unroll: bool | None = None
    mask_value: float | None = None
    head: str = "last"
    out_steps: int = 1

    @property
    def unrolled(self) -> bool:
        """Unroll short inputs: same math, and on CPU a third faster than a loop over 5 steps."""
        return self.timesteps <= UNROLL_UP_TO if self.unroll is None else self.unroll

    def __post_init__(self):
        problem = cell_problem(self.cell)
        if problem:
            raise ValueError(problem)
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose from {', '.join(HEADS)}")
