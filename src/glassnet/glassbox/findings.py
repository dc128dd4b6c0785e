"""What :func:`glassnet.diagnose` returns: findings, each with a stable code, and the report.

The codes are a contract (docs/diagnostics.md lists them): a program may test for
``"dead_relu" in report.codes``; their wording may improve, their names do not change.

==========================  =====================================================================
code                        what it means
==========================  =====================================================================
``learning_rate_too_high``  the loss rises or swings, the steps are large against the weights
``learning_rate_too_low``   the steps are tiny against the weights and the loss barely moves
``unscaled_inputs``         input features far from unit scale, or of very different scales
``dead_relu``               many ReLU units never output anything but zero
``saturated_units``         sigmoid/tanh units stuck near their flat ends, where slopes vanish
``vanishing_gradients``     the gradient shrinks layer by layer on its way to the first layer
``exploding_gradients``     the gradient grows layer by layer on its way to the first layer
``overfitting``             the validation loss rises again while the training loss falls
``underfitting``            the loss stays high, barely below always predicting the average
``wrong_output_for_loss``   the output layer cannot give what the loss reads (or what y holds)
==========================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from glassnet.errors import InputError, Param

#: Every code, with the one-line explanation a learner reads first.
CODES: dict[str, str] = {
    "learning_rate_too_high": "the learning rate is too high: each step jumps past the "
    "minimum, so the loss rises or swings instead of settling",
    "learning_rate_too_low": "the learning rate is too low: the steps are so small that the "
    "loss has barely moved",
    "unscaled_inputs": "the inputs are not scaled: features far from unit size (or of very "
    "different sizes) make some weights learn far faster than others",
    "dead_relu": "many ReLU units are dead: their input is negative for every example, so "
    "they output 0 and their weights get no gradient and never recover",
    "saturated_units": "sigmoid/tanh units are saturated: stuck near their flat ends, where "
    "the slope is almost 0, so hardly any gradient passes through them",
    "vanishing_gradients": "the gradients vanish: they shrink layer by layer on the way "
    "back, so the first layers learn almost nothing",
    "exploding_gradients": "the gradients explode: they grow layer by layer on the way back, "
    "so the first layers take huge, unstable steps",
    "overfitting": "the network is overfitting: it keeps getting better on the training rows "
    "while getting worse on rows it has not seen",
    "underfitting": "the network is underfitting: its loss is no better, or barely better, "
    "than always predicting the average, and it has stopped improving",
    "wrong_output_for_loss": "the output layer does not fit the loss: it cannot produce the "
    "values the loss reads or the targets hold",
}


@dataclass(frozen=True)
class Advice:
    """A fix, as a template whose parameter mentions are :class:`~glassnet.errors.Param`
    objects: Python spells them ``learning_rate=0.01``, the command line ``--learning-rate
    0.01`` (the same mechanism as the input errors)."""

    template: str
    fields: dict = field(default_factory=dict)

    format = InputError.format  # format(spell=Param.python) -> str

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class Finding:
    """One problem: its ``code`` (see :data:`CODES`), the ``evidence`` (numbers, with the
    layer and the epoch), a concrete ``fix``, and, where they apply, the ``layer``
    (``"layers.1"``), the 1-based ``epoch`` and the ``values`` the rule compared."""

    code: str
    evidence: str
    fix: Advice
    layer: str | None = None
    epoch: int | None = None
    values: dict = field(default_factory=dict)

    @property
    def explanation(self) -> str:
        """The one line a learner reads first."""
        return CODES[self.code]

    def format(self, spell=Param.python) -> str:
        return (
            f"{self.code}: {self.explanation}\n"
            f"  evidence: {self.evidence}\n"
            f"  fix: {self.fix.format(spell)}"
        )


@dataclass
class Diagnosis:
    """The findings of :func:`glassnet.diagnose`, and what was looked at (``checked``).

    ``str(report)`` is every finding with its evidence and fix, or — for a healthy run —
    one line saying so. ``report.codes`` lists the codes found, in order.
    """

    findings: list[Finding]
    checked: str

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def healthy(self) -> bool:
        return not self.findings

    def format(self, spell=Param.python) -> str:
        if self.healthy:
            return f"no problems found ({self.checked})"
        head = f"{len(self.findings)} problem{'s' if len(self.findings) > 1 else ''} found:"
        return "\n".join([head, *(f.format(spell) for f in self.findings)])

    def brief(self) -> str:
        """One line per finding, its code and explanation (what ``glassnet train`` prints
        when a run ends badly)."""
        return "\n".join(f"{f.code}: {f.explanation}" for f in self.findings)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"Diagnosis(codes={self.codes})"
