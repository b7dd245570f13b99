"""Bridging: Community Notes' matrix factorization on the vote matrix.

Model r(u, s) = mu + i_u + i_s + f_u . f_s over observed votes (agree 1, disagree 0; passes
left out, or fitted as the rating `pass` gives, a number in [0, 1] such as 0.5). Loss, as the
Community Notes scorer computes it (its matrix_factorization.py; "ranking notes"
documentation; Wojcik et al. 2022): the mean squared error over observed votes, plus lambda_i
times the mean of squares of each intercept vector (i_u, i_s, and mu^2) plus lambda_f times
the mean of squares of each factor matrix (f_u, f_s).
A statement's score is its intercept i_s: the agreement its votes show once the factor has
explained what one side of the main divide agrees with. Its factor f_s is reported beside it.

The fit is deterministic and runs to the optimum: mu starts at the mean vote, intercepts at 0,
factors at the leading singular directions of the centred vote matrix (a fixed subspace
iteration, no random start), then full-batch L-BFGS (on the parameters scaled by the loss's
Gauss-Newton diagonal at the start) until the largest scaled gradient component is below 1e-9
or the loss stops decreasing to machine precision; `converged` says the largest gradient
component is below 1e-6 (on the CCAI assembly: 2e-9 after about 160 iterations, 2 s). As
Community Notes does, the factor's sign is then chosen so that most participants have a
negative factor. Under the
bootstrap a participant drawn w times weighs w in the error and in the participant terms,
which is the loss of the resample with its duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp

from ccaic.assembly.scores import Scored, ScoreInputs, ScoreMethod
from ccaic.assembly.votes import AGREE, DISAGREE, PASS

GTOL = 1e-9
MAX_ITERATIONS = 20_000


@dataclass(frozen=True)
class Ratings:
    """Observed votes as (participant, statement, value, weight) arrays over the rows and
    columns that have one; `users`/`items` map them back to table rows/columns."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    weights: np.ndarray  # per participant of `users`
    users: np.ndarray
    items: np.ndarray


@dataclass(frozen=True)
class Fit:
    mu: float
    user_intercepts: np.ndarray
    item_intercepts: np.ndarray
    user_factors: np.ndarray  # (users, factors)
    item_factors: np.ndarray  # (items, factors)
    loss: float
    converged: bool


def ratings(codes: sp.csr_matrix, weights: np.ndarray | None, passes: str | float,
            moderated_out: np.ndarray | None = None) -> Ratings:
    """The votes the model fits: agree 1, disagree 0, a pass `passes` (a rating in [0, 1]) or
    left out ("exclude"); participants of weight 0 (not drawn in a resample) and
    moderated-out statements left out."""
    coo = codes.tocoo()
    keep = coo.data != PASS if passes == "exclude" else coo.data > 0
    if moderated_out is not None:
        keep &= ~np.asarray(moderated_out, bool)[coo.col]
    w_all = np.ones(codes.shape[0]) if weights is None else np.asarray(weights, np.float64)
    keep &= w_all[coo.row] > 0
    r, c, v = coo.row[keep], coo.col[keep], coo.data[keep]
    value = np.where(v == AGREE, 1.0, np.where(v == DISAGREE, 0.0, _pass_rating(passes)))
    users, rows = np.unique(r, return_inverse=True)
    items, cols = np.unique(c, return_inverse=True)
    order = np.lexsort((cols, rows))  # canonical order: the same votes give the same sums
    return Ratings(rows[order], cols[order], value[order], w_all[users], users, items)


def _passes(options: Mapping[str, object]) -> str | float:
    """`pass` ("exclude", or a pass's rating), read from **options: it is a Python keyword."""
    value = options.get("pass", "exclude")
    return float(value) if isinstance(value, (int, float)) else str(value)


def _pass_rating(passes: str | float) -> float:
    """The rating a pass is fitted as (unused when passes are excluded)."""
    return 0.0 if passes == "exclude" else float(passes)


def _unpack(x: np.ndarray, n: int, m: int, k: int
            ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    fu = x[1 + n + m:1 + n + m + n * k].reshape(n, k)
    fs = x[1 + n + m + n * k:].reshape(m, k)
    return float(x[0]), x[1:1 + n], x[1 + n:1 + n + m], fu, fs


def loss_and_grad(x: np.ndarray, d: Ratings, k: int, lambda_i: float, lambda_f: float
                  ) -> tuple[float, np.ndarray]:
    """The Community Notes loss (weighted by participant multiplicity) and its gradient."""
    n, m = len(d.users), len(d.items)
    mu, iu, is_, fu, fs = _unpack(x, n, m, k)
    wr = d.weights[d.rows]
    w_sum, u_sum = wr.sum(), d.weights.sum()
    fu_r, fs_c = np.take(fu, d.rows, axis=0), np.take(fs, d.cols, axis=0)  # once per call
    e = (mu + np.take(iu, d.rows) + np.take(is_, d.cols) + np.einsum("ij,ij->i", fu_r, fs_c)
         - d.values)
    wu = d.weights[:, None]
    loss = (float(np.dot(wr, e * e)) / w_sum
            + lambda_i * (float(np.dot(d.weights, iu * iu)) / u_sum + float(np.dot(is_, is_)) / m
                          + mu * mu)
            + lambda_f * (float(np.sum(wu * fu * fu)) / (u_sum * k)
                          + float(np.sum(fs * fs)) / (m * k)))
    g = 2.0 * wr * e / w_sum
    grad_fu = np.stack([np.bincount(d.rows, g * fs_c[:, j], n) for j in range(k)], axis=1)
    grad_fs = np.stack([np.bincount(d.cols, g * fu_r[:, j], m) for j in range(k)], axis=1)
    grad = np.concatenate([
        [g.sum() + 2.0 * lambda_i * mu],
        np.bincount(d.rows, g, n) + 2.0 * lambda_i * d.weights * iu / u_sum,
        np.bincount(d.cols, g, m) + 2.0 * lambda_i * is_ / m,
        (grad_fu + 2.0 * lambda_f * wu * fu / (u_sum * k)).ravel(),
        (grad_fs + 2.0 * lambda_f * fs / (m * k)).ravel(),
    ])
    return loss, grad


def initial(d: Ratings, k: int, iterations: int = 30) -> np.ndarray:
    """A fixed start: mu = mean vote, intercepts 0, factors from a subspace iteration on the
    centred vote matrix begun at a fixed basis (identical inputs, identical start; identical
    statements start identical after the first product)."""
    n, m = len(d.users), len(d.items)
    mu = float(np.average(d.values, weights=d.weights[d.rows]))
    r = sp.csr_matrix((d.values - mu, (d.rows, d.cols)), shape=(n, m))
    q = np.cos(np.outer(np.arange(m) + 1.0, np.arange(k) + 1.0))
    for _ in range(iterations):
        q, _r = np.linalg.qr(r.T @ (r @ q))
    u = r @ q
    scale = np.sqrt(np.maximum(np.linalg.norm(u, axis=0), 1e-12))
    fu, fs = u / scale, q * scale
    return np.concatenate([[mu], np.zeros(n + m), fu.ravel(), fs.ravel()])


def scales(d: Ratings, x0: np.ndarray, k: int, lambda_i: float, lambda_f: float
           ) -> np.ndarray:
    """Square roots of the loss's Gauss-Newton diagonal at the start: L-BFGS runs on the
    parameters times these, which takes it to the same optimum in a tenth of the iterations
    (a participant's intercept and a statement's see very different numbers of votes)."""
    n, m = len(d.users), len(d.items)
    _, _, _, fu, fs = _unpack(x0, n, m, k)
    wr = d.weights[d.rows]
    w_sum, u_sum = wr.sum(), d.weights.sum()
    per_user = 2.0 * np.bincount(d.rows, wr, n) / w_sum
    per_item = 2.0 * np.bincount(d.cols, wr, m) / w_sum
    fu_diag = np.stack([2.0 * np.bincount(d.rows, wr * fs[d.cols, j] ** 2, n) / w_sum
                        for j in range(k)], axis=1)
    fs_diag = np.stack([2.0 * np.bincount(d.cols, wr * fu[d.rows, j] ** 2, m) / w_sum
                        for j in range(k)], axis=1)
    diag = np.concatenate([
        [2.0 + 2.0 * lambda_i],
        per_user + 2.0 * lambda_i * d.weights / u_sum,
        per_item + 2.0 * lambda_i / m,
        (fu_diag + 2.0 * lambda_f * d.weights[:, None] / (u_sum * k)).ravel(),
        (fs_diag + 2.0 * lambda_f / (m * k)).ravel(),
    ])
    return np.asarray(np.sqrt(diag))


def fit(d: Ratings, factors: int = 1, lambda_i: float = 0.15, lambda_f: float = 0.03,
        start: np.ndarray | None = None) -> Fit:
    """The optimum of the loss from the fixed start (or `start`), identified by sign."""
    n, m = len(d.users), len(d.items)
    x0 = initial(d, factors) if start is None else start
    s = scales(d, x0, factors, lambda_i, lambda_f)

    def scaled(z: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = loss_and_grad(z / s, d, factors, lambda_i, lambda_f)
        return loss, grad / s

    res = so.minimize(scaled, x0 * s, jac=True, method="L-BFGS-B",
                      options={"gtol": GTOL, "ftol": 1e-15, "maxiter": MAX_ITERATIONS,
                               "maxcor": 20})
    x = res.x / s
    loss, grad = loss_and_grad(x, d, factors, lambda_i, lambda_f)
    mu, iu, is_, fu, fs = _unpack(x, n, m, factors)
    flip = np.where((fu < 0).sum(axis=0) * 2 < (fu != 0).sum(axis=0), -1.0, 1.0)
    return Fit(mu, iu.copy(), is_.copy(), fu * flip, fs * flip, loss,
               bool(np.max(np.abs(grad), initial=0.0) < 1e-6))


def score(inputs: ScoreInputs, /, factors: int = 1, lambda_i: float = 0.15,
          lambda_f: float = 0.03, max_factor: float | None = None, **options: object
          ) -> Scored:
    """i_s per statement (NaN for one without a fitted vote, moderated-out ones included: the
    fit leaves their votes out); `factor` beside it; with
    `max_factor`, statements whose |f_s| reaches it are barred from selection (CN's rule)."""
    d = ratings(inputs.table.codes, inputs.weights, _passes(options), inputs.moderated_out)
    cols = inputs.table.shape[1]
    values, factor = np.full(cols, np.nan), np.full(cols, np.nan)
    if len(d.values):
        f = fit(d, factors, lambda_i, lambda_f)
        values[d.items], factor[d.items] = f.item_intercepts, f.item_factors[:, 0]
    barred = None
    if max_factor is not None:
        barred = ~(np.abs(factor) < max_factor) & ~np.isnan(values)
    return Scored(values, {"factor": factor}, barred,
                  "" if max_factor is None else f"factor |f| >= {max_factor:g}")


def describe(factors: int = 1, lambda_i: float = 0.15, lambda_f: float = 0.03,
             max_factor: float | None = None, **options: object) -> str:
    passes = _passes(options)
    words = [f"{factors} factor{'' if factors == 1 else 's'}",
             "passes excluded" if passes == "exclude" else f"passes as {float(passes):g}"]
    if (lambda_i, lambda_f) != (0.15, 0.03):
        words.append(f"lambda_i {lambda_i:g}, lambda_f {lambda_f:g}")
    if max_factor is not None:
        words.append(f"|factor| < {max_factor:g}")
    return ", ".join(words)


BRIDGING = ScoreMethod(score, describe)
