"""glassnet: a neural-network library on NumPy in which every step of learning can be seen.

>>> import glassnet as gn
>>> model = gn.Sequential([gn.Dense(2, activation="sigmoid"),
...                        gn.Dense(1, activation="sigmoid")])
"""

from __future__ import annotations

__version__ = "0.1.0"

from glassnet.glassbox.diagnose import diagnose
from glassnet.glassbox.explain import explain
from glassnet.glassbox.gradcheck import gradcheck
from glassnet.io.model_file import ModelFileError, load
from glassnet.nn.activations import (
    ELU,
    GELU,
    Activation,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from glassnet.nn.conv import Conv2D
from glassnet.nn.layers import Dense, Dropout, Flatten, Layer
from glassnet.nn.losses import (
    BinaryCrossEntropy,
    CrossEntropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SumSquaredError,
)
from glassnet.nn.model import Sequential
from glassnet.nn.neuron import Neuron
from glassnet.nn.normalization import BatchNormalization, LayerNormalization
from glassnet.nn.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPool2D
from glassnet.nn.regularizers import L1, L1L2, L2
from glassnet.training.callbacks import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    ProgressBar,
)
from glassnet.training.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from glassnet.training.schedules import (
    CosineDecay,
    ExponentialDecay,
    LearningRateSchedule,
    LearningRateScheduler,
    OneCycle,
    PiecewiseConstantDecay,
    ReduceLROnPlateau,
    StepDecay,
)
from glassnet.training.statistics import TrainingStatistics
from glassnet.training.tracking import FunctionMetric, Metric
from glassnet.training.trainer import TrainingDivergedError

__all__ = [
    "Activation",
    "Adagrad",
    "Adam",
    "AdamW",
    "AveragePooling2D",
    "BatchNormalization",
    "BinaryCrossEntropy",
    "Callback",
    "Conv2D",
    "CosineDecay",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "ELU",
    "EarlyStopping",
    "ExponentialDecay",
    "Flatten",
    "FunctionMetric",
    "GELU",
    "GlobalAveragePooling2D",
    "History",
    "Huber",
    "Identity",
    "L1",
    "L1L2",
    "L2",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "LearningRateSchedule",
    "LearningRateScheduler",
    "MaxPool2D",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "ModelCheckpoint",
    "ModelFileError",
    "Neuron",
    "OneCycle",
    "Optimizer",
    "PiecewiseConstantDecay",
    "ProgressBar",
    "RMSprop",
    "ReLU",
    "ReduceLROnPlateau",
    "SGD",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StepDecay",
    "SumSquaredError",
    "Tanh",
    "TrainingDivergedError",
    "TrainingStatistics",
    "__version__",
    "diagnose",
    "explain",
    "gradcheck",
    "load",
]
