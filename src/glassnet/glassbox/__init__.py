"""How you see learning: the backpropagation ledger (``explain``) and gradient checks."""
