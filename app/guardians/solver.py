"""The exact batch solver: maximum-score bipartite b-matching on plain arrays (no database).

Maximise Σ score[i, j]·x[i, j] subject to Σ_j x[i, j] ≤ need[i], Σ_i x[i, j] ≤ capacity[j],
0 ≤ x[i, j] ≤ 1 and x[i, j] = 0 where not allowed.  The constraint matrix is the incidence matrix
of a bipartite graph, which is totally unimodular, so a basic optimal solution of the LP
(HiGHS dual simplex) is integral: the LP optimum *is* the integer optimum (a min-cost-flow problem).

For speed the graph is split into connected components (e.g. one per district office), and each
component is solved by column generation: start with each case's best few edges, solve, then
price every left-out edge with the duals; the most violated edges of each case and each guardian
are added and the LP solved again.  When no edge prices out, the restricted optimum is optimal
for the full LP.

Integer scores are tie-broken exactly: weight = score·(K+1) + 1 with K the most pairs possible,
so among the maximum-score solutions the one with the most pairs wins (allowed pairs with score 0
may still be chosen; cases stay unmatched only when no allowed guardian place is left).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

#: edges per case (per guardian) in the first restricted LP, beyond the case's need (its places)
EXTRA_EDGES = 8
#: violated edges that enter per case and per guardian in each pricing round
PRICE_PER_CASE = 3
PRICE_PER_GUARDIAN = 40


def solve(scores: np.ndarray, allowed: np.ndarray, case_need: np.ndarray,
          guardian_capacity: np.ndarray) -> list[tuple[int, int]]:
    """The (case index, guardian index) pairs of a maximum-total-score assignment."""
    scores = np.asarray(scores, dtype=float)
    need = np.asarray(case_need, dtype=np.int64)
    cap = np.asarray(guardian_capacity, dtype=np.int64)
    n, m = scores.shape
    mask = np.asarray(allowed, dtype=bool) & (need[:, None] > 0) & (cap[None, :] > 0)
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return []
    graph = coo_matrix((np.ones(rows.size), (rows, n + cols)), shape=(n + m, n + m))
    _count, labels = connected_components(graph, directed=False)
    pairs: list[tuple[int, int]] = []
    for label in np.unique(labels[rows]):
        ci, gi = np.flatnonzero(labels[:n] == label), np.flatnonzero(labels[n:] == label)
        r, c = _solve_component(scores[np.ix_(ci, gi)], mask[np.ix_(ci, gi)], need[ci], cap[gi])
        pairs.extend(zip(ci[r].tolist(), gi[c].tolist()))
    return sorted(pairs)


def _solve_component(score, allowed, need, cap):
    integral = bool(np.all(score[allowed] == np.round(score[allowed])))
    most = int(min(need.sum(), cap.sum()))
    weight = np.where(allowed, score * (most + 1) + 1 if integral else score, -np.inf)
    # with integer weights the basic duals are integers too, so a real violation is >= 1
    tol = 0.5 if integral else 1e-9
    # start with each case's best edges and each guardian's best cases (places are often scarce)
    keep = _best(weight, int(need.max()) + EXTRA_EDGES, axis=1) | _best(weight, int(cap.max()) + EXTRA_EDGES, axis=0)
    keep &= allowed
    while True:
        r, c = np.nonzero(keep)
        x, dual_case, dual_guardian = _restricted_lp(weight[r, c], r, c, need, cap)
        reduced = -weight - dual_case[:, None] - dual_guardian[None, :]
        entering = allowed & ~keep & (reduced < -tol)
        if not entering.any():
            chosen = x > 0.5
            return r[chosen], c[chosen]
        # partial pricing: the most violated edges of each case and of each guardian enter
        # (adding every violated edge makes the LP huge when places are scarce); the loop only
        # ends when no edge at all prices out, so the result stays exactly optimal
        profit = np.where(entering, -reduced, -np.inf)
        keep |= entering & (_best(profit, PRICE_PER_CASE, axis=1) | _best(profit, PRICE_PER_GUARDIAN, axis=0))


def _best(values: np.ndarray, k: int, axis: int) -> np.ndarray:
    """A mask of the ``k`` largest values along ``axis`` (all when there are no more than ``k``)."""
    size = values.shape[axis]
    if k >= size:
        return np.ones(values.shape, dtype=bool)
    mask = np.zeros(values.shape, dtype=bool)
    np.put_along_axis(mask, np.argpartition(-values, k - 1, axis=axis).take(np.arange(k), axis=axis), True, axis=axis)
    return mask


def _restricted_lp(weight, r, c, need, cap):
    """Solve the LP on the kept edges; returns x and the duals of the case and guardian rows."""
    n_case, n_edges = need.size, r.size
    matrix = csr_matrix((np.ones(2 * n_edges), (np.concatenate([r, n_case + c]), np.tile(np.arange(n_edges), 2))),
                        shape=(n_case + cap.size, n_edges))
    upper = np.concatenate([need, cap]).astype(float)
    res = linprog(-weight, A_ub=matrix, b_ub=upper, bounds=(0, 1), method="highs-ds")
    if res.status != 0:  # pragma: no cover - the LP is always feasible (x = 0) and bounded
        raise RuntimeError(res.message)
    if np.any(np.abs(res.x - np.round(res.x)) > 1e-6):  # pragma: no cover - a vertex of a TU system
        raise RuntimeError("the matching LP returned a fractional vertex")
    y = res.ineqlin.marginals
    return res.x, y[:n_case], y[n_case:]
