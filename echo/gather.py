"""One-hot inputs multiplied as gathers: a model's program, run with its one-hot input given as
values, picks a kernel's rows where it would multiply by the one-hot rows.

A one-hot row times a kernel is the kernel's row at the row's value, yet XLA multiplies it out:
for echo-lag's LSTM(50) the input kernel's product is most of an epoch's arithmetic, all but one
hundredth of it products with zero. `gathered(fn, n_unique, missing_value)` traces `fn` (a
pure function of arrays whose last argument is the one-hot input, as `echo.encoding.encode`
makes it) once and evaluates its program with that input kept as values (a `OneHot`), carried
through the operations that only move its elements (transposes, slices, squeezes, reshapes,
casts, nested jits and scans over time, and a Masking layer's test of every feature against its
mask value and its zeros for the masked steps, kept as `Compared` and `Broadcast`) into each
product over its features, which becomes a gather of the other operand's rows (a missing row's
product: its fill times their sum). Any other use gets the one-hot array itself, so the result
is always the program's: the same model (Keras's layers or a user's), the same values (a
product's terms that are zeros are left out, so the sums that remain are exact or, in gradients,
added in another order).
"""

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import ClosedJaxpr, Literal

from echo.encoding import encode


@dataclass(frozen=True)
class OneHot:
    """The one-hot array of `values` (an integer array) with its `size` features at `axis`; a
    row whose value is negative (a missing step) holds its `fill` (an array shaped as `values`)
    in every feature."""

    values: jax.Array
    fill: jax.Array
    axis: int
    size: int
    dtype: np.dtype

    def dense(self) -> jax.Array:
        """The array this stands for, as `echo.encoding.encode` makes it."""
        rows = jnp.where((self.values < 0)[..., None], self.fill[..., None],
                         encode(self.values, self.size))
        return jnp.moveaxis(rows.astype(self.dtype), -1, self.axis)

    def mapped(self, change, axis: int) -> "OneHot":
        """The same rows moved by `change` (applied to the values and the fill alike), their
        features now at `axis`."""
        return replace(self, values=change(self.values), fill=change(self.fill), axis=axis)


@dataclass(frozen=True)
class Compared:
    """`compare(onehot, constant)` elementwise, kept so a reduction over the features can be
    read off the rows: a one-hot row holds only 0 and 1, a missing row only its fill."""

    onehot: OneHot
    compare: object
    constant: object

    def dense(self) -> jax.Array:
        return self.compare(self.onehot.dense(), self.constant)

    def over_features(self, reduce) -> jax.Array:
        """`reduce` (jnp.logical_or or logical_and) of the comparison over each row's features."""
        zero, one = (self.compare(jnp.asarray(v, self.onehot.dtype), self.constant) for v in (0, 1))
        onehot_row = reduce(zero, one) if self.onehot.size > 1 else one
        return jnp.where(self.onehot.values < 0, self.compare(self.onehot.fill, self.constant),
                         onehot_row)


@dataclass(frozen=True)
class Broadcast:
    """`jax.lax.broadcast_in_dim(operand, shape, dimensions)`, kept so a selection can see that
    it is the same along a one-hot array's features."""

    operand: jax.Array
    shape: tuple
    dimensions: tuple
    sharding: object = None

    def dense(self) -> jax.Array:
        return jax.lax.broadcast_in_dim(self.operand, self.shape, self.dimensions,
                                        out_sharding=self.sharding)

    def rows(self, axis: int):
        """Its value in each row along `axis`, or None where it varies along that axis."""
        if axis in self.dimensions and self.operand.shape[self.dimensions.index(axis)] != 1:
            return None
        shape = self.shape[:axis] + (1,) + self.shape[axis + 1:]
        return jnp.squeeze(jax.lax.broadcast_in_dim(self.operand, shape, self.dimensions), axis)


def gathered(fn, n_unique: int, missing_value: float):
    """`fn(*arguments, onehot)` as `g(*arguments, values)`, where `onehot` is the one-hot
    encoding of `values` (missing steps, negative, `missing_value` in every feature) and every
    product of it with another array over its features is a gather of that array's rows."""

    def g(*arguments):
        *others, values = arguments
        onehot = jax.ShapeDtypeStruct(values.shape + (n_unique,), jnp.float32)
        spec = jax.tree.map(lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)),
                            others)
        closed, shapes = jax.make_jaxpr(fn, return_shape=True)(*spec, onehot)
        fill = jnp.full(values.shape, missing_value, jnp.float32)
        inputs = [*jax.tree.leaves(others),
                  OneHot(values, fill, values.ndim, n_unique, np.dtype("float32"))]
        outputs = _evaluate(closed, inputs)
        return jax.tree.unflatten(jax.tree.structure(shapes), [_dense(o) for o in outputs])

    return g


_SYMBOLIC = (OneHot, Compared, Broadcast)  # values held in symbolic form until a rule gathers them


def _dense(value):
    return value.dense() if isinstance(value, _SYMBOLIC) else value


def _evaluate(closed: ClosedJaxpr, inputs: list) -> list:
    """Evaluate a closed program on inputs of which some may be kept (OneHot, Compared,
    Broadcast); so may its outputs be."""
    jaxpr = closed.jaxpr
    env = dict(zip(jaxpr.constvars, closed.consts)) | dict(zip(jaxpr.invars, inputs))

    def read(var):
        return var.val if isinstance(var, Literal) else env[var]

    for eqn in jaxpr.eqns:
        arguments = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        results = None
        if name == "broadcast_in_dim":
            results = _broadcast(eqn, arguments)
        elif any(isinstance(a, _SYMBOLIC) for a in arguments) and name in _RULES:
            results = _RULES[name](eqn, arguments)
        if results is None:
            results = _bind(eqn, [_dense(a) for a in arguments])
        env.update(zip(eqn.outvars, results))
    return [read(v) for v in jaxpr.outvars]


def _bind(eqn, arguments) -> list:
    with eqn.ctx.manager:
        results = eqn.primitive.bind(*arguments, **eqn.primitive.get_bind_params(eqn.params))
    return list(results) if eqn.primitive.multiple_results else [results]


def _values_axis(onehot: OneHot, dim: int) -> int:
    """The axis of `values` that the array's axis `dim` (not the features') is."""
    return dim if dim < onehot.axis else dim - 1


def _moved(rule):
    """A rule for an operation on a OneHot (its first operand) that only moves its elements."""

    def apply(eqn, arguments):
        if not isinstance(arguments[0], OneHot):
            return None
        result = rule(eqn, *arguments)
        return None if result is None else [result]

    return apply


@_moved
def _transpose(eqn, onehot):
    permutation = eqn.params["permutation"]
    order = [_values_axis(onehot, d) for d in permutation if d != onehot.axis]
    return onehot.mapped(lambda a: jnp.transpose(a, order), permutation.index(onehot.axis))


@_moved
def _squeeze(eqn, onehot):
    dimensions = eqn.params["dimensions"]
    if onehot.axis in dimensions:
        return None
    axes = tuple(_values_axis(onehot, d) for d in dimensions)
    return onehot.mapped(lambda a: jnp.squeeze(a, axes),
                         onehot.axis - sum(d < onehot.axis for d in dimensions))


@_moved
def _slice(eqn, onehot):
    start, limit = eqn.params["start_indices"], eqn.params["limit_indices"]
    strides = eqn.params["strides"] or (1,) * len(start)
    if (start[onehot.axis], limit[onehot.axis], strides[onehot.axis]) != (0, onehot.size, 1):
        return None
    keep = [d for d in range(len(start)) if d != onehot.axis]
    return onehot.mapped(lambda a: jax.lax.slice(a, [start[d] for d in keep],
                                                 [limit[d] for d in keep],
                                                 [strides[d] for d in keep]), onehot.axis)


@_moved
def _dynamic_slice(eqn, onehot, *starts):
    sizes = eqn.params["slice_sizes"]
    if sizes[onehot.axis] != onehot.size or any(isinstance(s, _SYMBOLIC) for s in starts):
        return None
    keep = [d for d in range(len(sizes)) if d != onehot.axis]
    return onehot.mapped(lambda a: jax.lax.dynamic_slice(a, [starts[d] for d in keep],
                                                         [sizes[d] for d in keep]), onehot.axis)


@_moved
def _reshape(eqn, onehot):
    sizes = eqn.params["new_sizes"]
    if (eqn.params.get("dimensions") is not None or onehot.axis != onehot.values.ndim
            or sizes[-1] != onehot.size):
        return None
    return onehot.mapped(lambda a: jnp.reshape(a, sizes[:-1]), len(sizes) - 1)


@_moved
def _convert(eqn, onehot):
    dtype = np.dtype(eqn.params["new_dtype"])
    return replace(onehot, dtype=dtype) if jnp.issubdtype(dtype, jnp.floating) else None


@_moved
def _same(_eqn, onehot):
    return onehot


def _compare(compare):
    """An elementwise comparison of a OneHot with a scalar: kept as a Compared."""

    def apply(_eqn, arguments):
        left, right = arguments
        if isinstance(left, OneHot) and not isinstance(right, _SYMBOLIC) and np.ndim(right) == 0:
            return [Compared(left, compare, right)]
        return None

    return apply


def _reduce(reduce):
    """An all or any over exactly the features of a Compared: read off its rows."""

    def apply(eqn, arguments):
        (compared,) = arguments
        if isinstance(compared, Compared) and tuple(eqn.params["axes"]) == (compared.onehot.axis,):
            return [compared.over_features(reduce)]
        return None

    return apply


def _broadcast(eqn, arguments):
    """Every broadcast is kept (a broadcast of one composed into one)."""
    operand, *dynamic = arguments
    dimensions = eqn.params["broadcast_dimensions"]
    if dynamic or isinstance(operand, (OneHot, Compared)):
        return None
    if isinstance(operand, Broadcast):
        operand, dimensions = operand.operand, tuple(dimensions[d] for d in operand.dimensions)
    return [Broadcast(operand, eqn.params["shape"], dimensions, eqn.params.get("sharding"))]


def _select(_eqn, arguments):
    """select_n(rows, other, onehot) or its mirror, `rows` and `other` each the same along the
    features (a Masking layer's zeros): the rows given `other` become missing rows holding it."""
    predicate, *cases = arguments
    onehots = [isinstance(c, OneHot) for c in cases]
    if len(cases) != 2 or not isinstance(predicate, Broadcast) or onehots.count(True) != 1:
        return None
    at = onehots.index(True)
    onehot, other = cases[at], cases[1 - at]
    chosen = predicate.rows(onehot.axis)
    value = other.rows(onehot.axis) if isinstance(other, Broadcast) else None
    if chosen is None or value is None:
        return None
    replaced = chosen.astype(jnp.int32) != at  # select_n gives cases[i] where it is i
    return [replace(onehot, values=jnp.where(replaced, -1, onehot.values),
                    fill=jnp.where(replaced, value.astype(onehot.fill.dtype), onehot.fill))]


def _dot_general(eqn, arguments):
    """A product over the one-hot features alone: the other operand's rows at the values, and
    for a missing row its fill times the sum of those rows."""
    (contract_l, contract_r), (batch_l, batch_r) = eqn.params["dimension_numbers"]
    left, right = arguments
    if batch_l or batch_r or [type(a) for a in arguments].count(OneHot) != 1:
        return None
    onehot, other, contract, other_contract = ((left, right, contract_l, contract_r)
                                               if isinstance(left, OneHot)
                                               else (right, left, contract_r, contract_l))
    if tuple(contract) != (onehot.axis,):
        return None
    rows = jnp.moveaxis(_dense(other), other_contract[0], 0)
    picked = jnp.take(rows, jnp.maximum(onehot.values, 0), axis=0, mode="fill", fill_value=0)
    extra = (1,) * (rows.ndim - 1)
    missing = (onehot.values < 0).reshape(onehot.values.shape + extra)
    picked = jnp.where(missing, onehot.fill.reshape(onehot.fill.shape + extra)
                       * jnp.sum(rows, axis=0), picked)
    if onehot is right:  # the product's axes: the left operand's free axes, then the right's
        free = rows.ndim - 1
        picked = jnp.moveaxis(picked, tuple(range(onehot.values.ndim)),
                              tuple(range(free, free + onehot.values.ndim)))
    return [picked.astype(eqn.outvars[0].aval.dtype)]


def _jit(eqn, arguments):
    """A nested jit is evaluated in place, so what is kept reaches the operations inside it."""
    return _evaluate(eqn.params["jaxpr"], arguments)


def _scan(eqn, arguments):
    """A scan over a one-hot input's leading axis (a recurrent layer's loop over time) scans its
    values and fill, so each step's product with the input kernel is a gather too."""
    p = eqn.params
    consts = arguments[:p["num_consts"]]
    carry = [_dense(a) for a in arguments[p["num_consts"]:p["num_consts"] + p["num_carry"]]]
    xs = [x if isinstance(x, OneHot) and x.axis > 0 else _dense(x)
          for x in arguments[p["num_consts"] + p["num_carry"]:]]
    scanned = [(x.values, x.fill) if isinstance(x, OneHot) else x for x in xs]

    def step(carry, sliced):
        inner = [replace(x, values=s[0], fill=s[1], axis=x.axis - 1) if isinstance(x, OneHot)
                 else s for x, s in zip(xs, sliced)]
        outputs = [_dense(o) for o in _evaluate(p["jaxpr"], [*consts, *carry, *inner])]
        return outputs[:len(carry)], outputs[len(carry):]

    carry, ys = jax.lax.scan(step, carry, scanned, length=p["length"], reverse=p["reverse"],
                             unroll=p["unroll"])
    return [*carry, *ys]


_RULES = {"transpose": _transpose, "squeeze": _squeeze, "slice": _slice,
          "dynamic_slice": _dynamic_slice, "reshape": _reshape, "convert_element_type": _convert,
          "copy": _same, "copy_p": _same, "dot_general": _dot_general, "pjit": _jit, "jit": _jit,
          "scan": _scan, "select_n": _select, "ne": _compare(jnp.not_equal),
          "eq": _compare(jnp.equal), "reduce_or": _reduce(jnp.logical_or),
          "reduce_and": _reduce(jnp.logical_and)}
