"""The private-API workarounds: each works on the pinned versions, and says so in one line when
the API it relies on is gone."""

import pytest
from joblib.externals.loky import process_executor

from echo.compat import CompatError, allow_worker_growth, track_variables
from echo.models import build_model, recurrent_layers
from echo.spec import ModelSpec


def test_track_variables_makes_a_stateful_layers_state_its_own_once():
    model = build_model(ModelSpec(units=4, n_unique=10))
    layer = recurrent_layers(model)[0]
    for _ in range(2):
        track_variables(layer, layer.states)
    own = [id(v) for v in layer.non_trainable_variables]
    assert all(own.count(id(state)) == 1 for state in layer.states)
    assert {id(v) for v in layer.states} <= {id(v) for v in model.non_trainable_variables}


def test_track_variables_names_itself_when_keras_changed():
    with pytest.raises(CompatError, match="no Layer._tracker.*echo/compat.py"):
        track_variables(object(), [])


def test_allow_worker_growth_sets_lokys_threshold(monkeypatch):
    monkeypatch.setattr(process_executor, "_MAX_MEMORY_LEAK_SIZE",
                        process_executor._MAX_MEMORY_LEAK_SIZE)
    allow_worker_growth(12345)
    assert process_executor._MAX_MEMORY_LEAK_SIZE == 12345
    monkeypatch.delattr(process_executor, "_MAX_MEMORY_LEAK_SIZE")
    with pytest.raises(CompatError, match="_MAX_MEMORY_LEAK_SIZE.*echo/compat.py"):
        allow_worker_growth(1)
