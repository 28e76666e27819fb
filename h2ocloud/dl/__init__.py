"""The deep-learning model layer: parameters, preprocessing, metrics, the training loop and
the model format. Independent of where the data lives: the node plugs its own backend into
:func:`train_model`; tests and single-node use take :class:`LocalBackend`."""

from h2ocloud.dl.datainfo import DataInfo
from h2ocloud.dl.local_backend import LocalBackend
from h2ocloud.dl.model import DeepLearningModel
from h2ocloud.dl.model_format import load_model, model_from_bytes, model_to_bytes, save_model
from h2ocloud.dl.params import check_checkpoint_compatible, validate_parameters
from h2ocloud.dl.trainer import TrainingBackend, train_model

__all__ = [
    "DataInfo",
    "DeepLearningModel",
    "LocalBackend",
    "TrainingBackend",
    "check_checkpoint_compatible",
    "load_model",
    "model_from_bytes",
    "model_to_bytes",
    "save_model",
    "train_model",
    "validate_parameters",
]
