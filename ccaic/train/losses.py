"""The soft-label DPO loss (imports torch).

For a pair with target probability p that `chosen` is better (Anthropic's soft labels):

    loss = -[ p * log sigma(beta * delta) + (1 - p) * log sigma(-beta * delta) ]
    delta = (log pi(chosen) - log ref(chosen)) - (log pi(rejected) - log ref(rejected))

p = 1 gives TRL 1.16's "sigmoid" loss exactly (`-F.logsigmoid(self.beta * delta_score)` in
DPOTrainer._compute_loss); a constant p = 1 - eps is cDPO / the "robust"-free label-smoothed form.
"""

from __future__ import annotations

from typing import Any


def soft_dpo_loss(chosen_logratios: Any, rejected_logratios: Any, p: Any, beta: float) -> Any:
    """Per-row losses (a tensor the shape of p)."""
    import torch.nn.functional as F

    delta = chosen_logratios - rejected_logratios
    return -(p * F.logsigmoid(beta * delta) + (1 - p) * F.logsigmoid(-beta * delta))
