"""The thresholds of :func:`glassnet.diagnose`'s rules (:mod:`glassnet.glassbox.rules`),
each a named constant with the reason for its value."""

from __future__ import annotations

UPDATE_RATIO_HIGH = 0.01
"""A step that moves a weight matrix by more than 1% of its size (ten times the rule of
thumb of about 1e-3, Karpathy's "update/weight ratio") — *with* a loss that rises or swings
— means the learning rate is too high."""
LOSS_ABOVE_START = 2.0
"""An epoch whose loss is twice the loss before training: the steps made things worse, as
only a learning rate that overshoots does."""
OSCILLATION_EPOCHS = 10
"""The last epochs in which a swinging loss is looked for."""
OSCILLATION_RISE = 0.2
"""A rise of more than 20% from one epoch's loss to the next: a step past the minimum."""
OSCILLATION_JUMPS = 3
"""Three such rises within :data:`OSCILLATION_EPOCHS`, with update ratios above
:data:`UPDATE_RATIO_HIGH` in those epochs: the loss swings (noise near a minimum, with
small steps, is not counted: its steps are far below the threshold)."""
UPDATE_RATIO_LOW = 1e-5
"""Steps a hundred times smaller than the rule of thumb (1e-3): a thousand steps move each
weight by about 1%. With a loss that barely moved, the learning rate is too low."""
LOSS_BARELY_MOVED = 0.01
"""The loss fell by less than 1% of its first epoch's value over the whole history."""
LOSS_GIVEN_BACK = 0.25
"""The loss has lost a quarter of the improvement it made (from its first epoch down to its
best): more than batch noise near a minimum, which gives back a few percent at most."""
UNSCALED_MAX = 100.0
"""A feature whose largest absolute value exceeds 100: one step moves its weight's
contribution a hundred times more than a unit-scale feature's (raw pixels 0-255, years)."""
UNSCALED_MIN = 1e-3
"""A varying feature whose largest absolute value is below 0.001: its weight must grow a
thousandfold before it counts, so it learns a thousand times more slowly."""
UNSCALED_RATIO = 1e3
"""Features whose largest absolute values differ by three orders of magnitude: no single
learning rate suits both."""
DEAD_SHARE = 0.5
"""Half or more of a ReLU layer's units output 0 for every example: the layer works at
half its width at best; a healthy ReLU layer has a few percent dead."""
SATURATED_SHARE = 0.5
"""Half or more of a hidden sigmoid/tanh layer's values lie in its flat ends (see
``statistics.SATURATION_MARGIN``): most of its units pass almost no gradient."""
VANISHING_RATIO = 1e-3
"""The first layer's gradient (root mean square per weight) a thousand times smaller than
the last layer's: the first layers learn three orders of magnitude more slowly."""
EXPLODING_RATIO = 1e3
"""The first layer's gradient a thousand times larger than the last layer's."""
UNDERFIT_SHARE = 0.8
"""A loss at 80% or more of the loss of always predicting the average (the class
frequencies, or the mean target): the network has learnt at most a fifth of what can be."""
SATURATED_STUCK = 0.5
"""...and the training loss still at half its first epoch's value or more: saturated units
that stop the learning. (A network that learnt its task may end with confident, saturated
hidden units — seed 002's, on four people — and that is no problem.)"""
OVERFIT_EPOCHS = 10
"""Epochs the validation loss must have gone on above its best: a rise that lasts, not the
few epochs that early stopping waits (its patience) before it ends a run."""
FLAT_EPOCHS = 5
"""Epochs at the end of the curve over which "has stopped improving" is judged."""
FLAT_SHARE = 0.01
"""Improving by less than 1% over :data:`FLAT_EPOCHS` epochs is flat."""
