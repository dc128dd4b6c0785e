"""One training step walked through, and one weight's ledger: both read from ``gn.explain``.

:func:`explain` (:mod:`glassnet.glassbox.explain`) runs the model's own forward and backward
pass — ``loss_and_gradients``, as ``fit``'s steps do — on the batch the next step will use,
and records every value on the way: ``z`` and ``a`` of each layer, the loss, ``dL/dy_hat``,
then from the top ``dL/da``, ``delta = dL/dz`` and the gradients. The trace is that ledger,
plus the weights before and after the step that follows; the ledger endpoint is its text
and its chain rule for one weight. Nothing here computes a derivative of its own.
"""

from __future__ import annotations

from glassnet.glassbox.explain import explain
from glassnet.glassbox.playground.config import RequestError
from glassnet.glassbox.playground.snapshot import clean


def next_ledger(session, parameter: str | None):
    """``gn.explain`` of the session's model on the next step's batch."""
    _, xb, yb = session.next_batch()
    return explain(session.model, xb, yb, loss=session.config["loss"], parameter=parameter)


def _weights(model) -> list[dict]:
    return [
        {"W": layer.params["W"].copy(), "b": layer.params["b"].copy()} for layer in model.layers
    ]


def trace_step(session) -> dict:
    """The next step, stage by stage (forward, loss, backward, update); the step is taken."""
    rows, xb, yb = session.next_batch()
    ledger = next_ledger(session, None)
    before = _weights(session.model)
    session.train(1)
    after = _weights(session.model)
    forward = [{"layer": e.index + 1, "z": e.z, "a": e.a} for e in ledger.layers]
    backward = [
        {
            "layer": e.index + 1,
            "dL_da": e.dL_da,
            "delta": e.delta,
            "dW": e.grads["W"],
            "db": e.grads["b"],
        }
        for e in reversed(ledger.layers)
    ]
    update = [
        {"layer": k + 1, "W_before": b["W"], "W_after": a["W"], "b_before": b["b"],
         "b_after": a["b"]}
        for k, (b, a) in enumerate(zip(before, after, strict=True))
    ]  # fmt: skip
    return clean(
        {
            "batch": rows,
            "x": xb,
            "y": yb.reshape(len(yb), -1),
            "forward": forward,
            "loss": ledger.loss,
            "dL_dyhat": ledger.dL_dyhat,
            "backward": backward,
            "update": update,
        }
    )


def parameter_name(session, body: dict) -> str:
    """``layers.<L-1>.W[I,J]`` (or ``layers.<L-1>.b[J]``) from the page's layer L, units I, J,
    checked against the network."""
    sizes = [2, *(layer.params["W"].shape[1] for layer in session.model.layers)]
    layer, j = body["layer"], body["j"]
    key = body.get("parameter", "W")
    if layer > len(sizes) - 1:
        raise RequestError(f"layer must be between 1 and {len(sizes) - 1}, got {layer}")
    if j >= sizes[layer]:
        raise RequestError(f"j must be between 0 and {sizes[layer] - 1} in layer {layer}, got {j}")
    if key == "b":
        return f"layers.{layer - 1}.b[{j}]"
    if "i" not in body:
        raise RequestError("i is needed for a weight W (or ask for parameter 'b')")
    i = body["i"]
    if i >= sizes[layer - 1]:
        raise RequestError(
            f"i must be between 0 and {sizes[layer - 1] - 1} in layer {layer}, got {i}"
        )
    return f"layers.{layer - 1}.W[{i},{j}]"


def ledger(session, body: dict) -> dict:
    """One weight's ledger on the next step's batch: the text ``gn.explain`` prints, its
    chain rule factor by factor, the weight's value and its gradient on that batch."""
    name = parameter_name(session, body)
    record = next_ledger(session, name)
    chain = record.chain
    layer = session.model.layers[body["layer"] - 1]
    key = body.get("parameter", "W")
    index = (body["i"], body["j"]) if key == "W" else (body["j"],)
    factors = ("dL_dyhat", "dyhat_da", "dL_da", "da_dz", "dz_dw", "da_dw", "dL_dw", "dL_dw_total")
    return clean(
        {
            "parameter": name,
            "text": str(record),
            "chain": {k: getattr(chain, k) for k in factors},
            "value": float(layer.params[key][index]),
            "gradient": chain.dL_dw_total,
        }
    )
