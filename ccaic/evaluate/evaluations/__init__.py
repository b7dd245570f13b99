"""The evaluations a plan's `evaluate` block runs, one module each (ccaic/registry/evaluations.py
names them; `base` says what one is)."""
