"""glassnet: a neural-network library on NumPy in which every step of learning can be seen.

    >>> import glassnet as gn
    >>> model = gn.Sequential([gn.Dense(2, activation="sigmoid"),
    ...                        gn.Dense(1, activation="sigmoid")])
"""

from __future__ import annotations

__version__ = "0.1.0"

from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .callbacks import Callback, EarlyStopping, History, ModelCheckpoint, ProgressBar
from .conv import Conv2D, MaxPool2D
from .explain import explain
from .gradcheck import gradcheck
from .layers import Dense, Dropout, Flatten, Layer
from .losses import BinaryCrossEntropy, CrossEntropy, MeanSquaredError, SumSquaredError
from .model import Sequential, TrainingDivergedError
from .neuron import Neuron
from .optimizers import SGD, Adam, Optimizer, RMSprop
from .serialization import ModelFileError, load

__all__ = [
    "Adam", "BinaryCrossEntropy", "Callback", "Conv2D", "CrossEntropy", "Dense", "Dropout",
    "EarlyStopping", "Flatten", "History", "Identity", "Layer", "LeakyReLU", "MaxPool2D",
    "MeanSquaredError", "ModelCheckpoint", "ModelFileError", "Neuron", "Optimizer",
    "ProgressBar", "RMSprop", "ReLU", "SGD", "Sequential", "Sigmoid", "Softmax",
    "SumSquaredError", "Tanh", "TrainingDivergedError", "__version__", "explain", "gradcheck",
    "load",
]
