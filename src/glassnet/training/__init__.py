"""How a network learns: the training loop, optimizers, callbacks, metrics and output heads."""
