"""The network, as the textbook writes it: neurons, activations, layers, convolutions, losses,
initialisers and the ``Sequential`` stack. This is the reference path: every layer's forward
and backward is the textbook computation, and its cached values are the textbook ones."""
