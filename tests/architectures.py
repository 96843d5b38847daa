"""Architectures written the way papers' code often is, for the tests of `--set cell=...`: a cell
keeping its weights under names of its own, a recurrent layer with two states, and a sequence
layer that is no RNN at all (it reads the whole window at once and cannot carry state), a
cell one of whose weights is a bare keras.Variable (no initializer known for it), one that
builds with some units but not with others, and a layer with one number per sample."""

import keras
from keras import ops


class OwnNamesCell(keras.layers.Layer):
    """h = tanh(x W + h U + b), its weights made by add_weight under names of its own and their
    initializers kept under other names (no `*_initializer` attribute names them)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units
        self.feed_init = keras.initializers.GlorotUniform()
        self.loop_init = keras.initializers.Orthogonal()

    def build(self, input_shape):
        self.ff1_weight = self.add_weight(shape=(input_shape[-1], self.units),
                                          initializer=self.feed_init, name="ff1_weight")
        self.loop_weight = self.add_weight(shape=(self.units, self.units),
                                           initializer=self.loop_init, name="loop_weight")
        self.shift = self.add_weight(shape=(self.units,), initializer="zeros", name="shift")

    def call(self, inputs, states):
        h = ops.tanh(ops.matmul(inputs, self.ff1_weight)
                     + ops.matmul(states[0], self.loop_weight) + self.shift)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class TwoStateCell(keras.layers.Layer):
    """A fast state f = tanh(x W + f U) and a slow one s = 0.9 s + 0.1 f; it outputs f + s."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel",
                                      initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel", initializer="orthogonal")

    def call(self, inputs, states):
        fast = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel))
        slow = 0.9 * states[1] + 0.1 * fast
        return fast + slow, [fast, slow]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class TwoStateRNN(keras.layers.RNN):
    """A full recurrent layer (a keras.layers.RNN subclass) over TwoStateCell."""

    def __init__(self, units, **kwargs):
        super().__init__(TwoStateCell(units), **kwargs)


class WindowMLP(keras.layers.Layer):
    """Every step of the window at once: tanh(flatten(x) W + b), (batch, time, features) to
    (batch, units). No state, no return_sequences, no mask."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.steps_weight = self.add_weight(shape=(input_shape[1] * input_shape[2], self.units),
                                            initializer="glorot_uniform", name="steps_weight")
        self.steps_bias = self.add_weight(shape=(self.units,), initializer="zeros",
                                          name="steps_bias")

    def call(self, inputs):
        flat = ops.reshape(inputs, (ops.shape(inputs)[0], -1))
        return ops.tanh(ops.matmul(flat, self.steps_weight) + self.steps_bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class BareVariableCell(OwnNamesCell):
    """OwnNamesCell with its shift made as a keras.Variable from Keras's random draw."""

    def build(self, input_shape):
        super().build(input_shape)
        self.shift = keras.Variable(keras.random.normal((self.units,), stddev=0.1), name="shift")


class SmallOnlyCell(OwnNamesCell):
    """OwnNamesCell that cannot be built with more than 20 units: one variant builds, another
    does not."""

    def build(self, input_shape):
        if self.units > 20:
            raise RuntimeError(f"{self.units} units are more than this cell allows")
        super().build(input_shape)


class OneNumberLayer(keras.layers.Layer):
    """A layer that sums each window to one number per sample, (batch,): no units at all."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, inputs):
        return ops.sum(inputs, axis=(1, 2))
