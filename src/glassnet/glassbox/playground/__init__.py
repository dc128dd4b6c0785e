"""The playground: the glass box in the browser (``glassnet playground``).

A local web app in which a learner trains a small network on a problem in the plane and
watches every neuron, every weight and every step of backpropagation. All the mathematics is
glassnet's own Python, run by the server; the page (``static/``) only draws. The JSON API
it speaks is documented in ``docs/playground.md``.

=============  =============================================================================
module         what it holds
=============  =============================================================================
``config``     what a request may ask for: the choices, the limits, the JSON Schema checks
``session``    one network on one problem, trained a batch at a time exactly as ``fit`` does
``snapshot``   the State: where training is, the data, weights, gradients, heat maps
``trace``      one step walked through, and one weight's ledger, both from ``gn.explain``
``script``     copy as Python: the script that rebuilds a session and prints its numbers
``routes``     the API apart from HTTP: sessions (at most 16), paths, methods, answers
``server``     the HTTP server on 127.0.0.1 and its guards (Host, static whitelist, sizes)
=============  =============================================================================
"""
