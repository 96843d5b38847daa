"""Masked steps have no influence on the output, in the compiled program as in Keras."""

import keras
import numpy as np

from echo.framings import MISSING
from echo.models import build_model
from echo.spec import ModelSpec
from echo.training import predict_probabilities


def models_sharing_weights(mask_value):
    keras.utils.set_random_seed(4)
    spec = ModelSpec(units=8, timesteps=5, batch_size=1, stateful=True, n_unique=10,
                     mask_value=mask_value)
    full = build_model(spec)
    suffix = build_model(ModelSpec(units=8, timesteps=2, batch_size=1, stateful=True, n_unique=10))
    suffix.set_weights(full.get_weights())
    return full, suffix


def test_masked_steps_are_as_if_absent():
    full, suffix = models_sharing_weights(mask_value=-1.0)
    padded = np.array([[[MISSING, MISSING, MISSING, 3, 7]]])
    alone = np.array([[[3, 7]]])
    np.testing.assert_allclose(predict_probabilities(full, padded, missing_value=-1.0),
                               predict_probabilities(suffix, alone), atol=1e-6)


def test_marked_but_unmasked_steps_do_influence_the_output():
    full, suffix = models_sharing_weights(mask_value=None)
    padded = np.array([[[MISSING, MISSING, MISSING, 3, 7]]])
    alone = np.array([[[3, 7]]])
    difference = np.abs(predict_probabilities(full, padded, missing_value=-1.0)
                        - predict_probabilities(suffix, alone)).max()
    assert difference > 1e-4
