# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Plain-Python statistics for the point suggestion: no numpy in Odoo.

The data are *patterns*: one per distinct set of features (rule hits,
candidate values) with how many opportunities showing it were won and lost.
Every function here works on those counts, never on one row per
opportunity, so that its cost grows with the distinct patterns only."""

import math


def _sigmoid(eta):
    if eta >= 0:
        return 1.0 / (1.0 + math.exp(-eta))
    z = math.exp(eta)
    return z / (1.0 + z)


def _solve(matrix, vector):
    """x such that matrix x = vector (Gaussian elimination with partial
    pivoting; the matrix is a small, symmetric positive definite Hessian)."""
    size = len(vector)
    rows = [list(matrix[i]) + [vector[i]] for i in range(size)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        head = rows[col]
        if abs(head[col]) < 1e-12:
            continue
        for r in range(col + 1, size):
            factor = rows[r][col] / head[col]
            if factor:
                row = rows[r]
                for c in range(col, size + 1):
                    row[c] -= factor * head[c]
    solution = [0.0] * size
    for r in range(size - 1, -1, -1):
        row = rows[r]
        if abs(row[r]) < 1e-12:
            continue
        total = row[size] - sum(row[c] * solution[c] for c in range(r + 1, size))
        solution[r] = total / row[r]
    return solution


def fit_logistic(patterns, size, l2=1.0, iterations=30, tolerance=1e-7):
    """L2-regularised logistic regression of won against lost, by Newton's
    method (IRLS) over weighted patterns.

    ``patterns``: [(features, won, lost)], features a sequence of distinct
    indices in range(size); or a function returning a fresh iterator over
    them, read once per step (the patterns then need not fit in memory).
    Returns (intercept, [coefficient per feature]), in log-odds; the
    intercept is not penalised. Each step costs the sum over patterns of
    (features + 1) squared, then a (size + 1) square solve."""
    scan = patterns if callable(patterns) else lambda: iter(patterns)
    dim = size + 1
    won_total = lost_total = 0
    for _features, won, lost in scan():
        won_total += won
        lost_total += lost
    beta = [0.0] * dim
    beta[0] = math.log((won_total + 0.5) / (lost_total + 0.5))
    for _step in range(iterations):
        gradient = [0.0] * dim
        hessian = [[0.0] * dim for _ in range(dim)]
        for features, won, lost in scan():
            # Index 0 is the intercept, shared by every pattern.
            index = [0]
            index.extend(i + 1 for i in features)
            total = won + lost
            eta = 0.0
            for i in index:
                eta += beta[i]
            p = _sigmoid(eta)
            residual = won - total * p
            weight = total * p * (1.0 - p)
            for a in index:
                gradient[a] += residual
                row = hessian[a]
                for b in index:
                    row[b] += weight
        for a in range(1, dim):
            gradient[a] -= l2 * beta[a]
            hessian[a][a] += l2
        hessian[0][0] += 1e-9
        step = _solve(hessian, gradient)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < tolerance:
            break
    return beta[0], beta[1:]


def weighted_auc(scored):
    """The ROC AUC (a tie counting half) of [(score, won count, lost count)]:
    the chance that a won opportunity scored more than a lost one; None
    without both won and lost. Equal to lead_score_quality.roc_auc on the
    same opportunities one by one."""
    won = sum(w for _s, w, _l in scored)
    lost = sum(lo for _s, _w, lo in scored)
    if not won or not lost:
        return None
    by_score = {}
    for score, w, lo in scored:
        counts = by_score.setdefault(score, [0, 0])
        counts[0] += w
        counts[1] += lo
    lost_below = 0
    pairs = 0.0
    for score in sorted(by_score):
        w, lo = by_score[score]
        pairs += w * (lost_below + lo / 2)
        lost_below += lo
    return pairs / (won * lost)


class Tally:
    """Won and lost counts by score."""

    def __init__(self):
        self.counts = {}

    def add(self, score, won, lost):
        counts = self.counts.setdefault(score, [0, 0])
        counts[0] += won
        counts[1] += lost

    def items(self):
        """[(score, won, lost)], for weighted_auc."""
        return [(score, won, lost) for score, (won, lost) in self.counts.items()]


class Spread:
    """The weighted spreads of two scores over the same opportunities, one
    pattern at a time: the fitted score (log-odds) and today's (points)."""

    def __init__(self):
        self.weight = 0
        self.sums = [0.0, 0.0]
        self.squares = [0.0, 0.0]

    def add(self, fitted, today, weight):
        self.weight += weight
        for i, value in enumerate((fitted, today)):
            self.sums[i] += weight * value
            self.squares[i] += weight * value * value

    def std(self, i):
        if not self.weight:
            return 0.0
        mean = self.sums[i] / self.weight
        return math.sqrt(max(0.0, self.squares[i] / self.weight - mean * mean))

    def scale(self, fallback=10.0):
        """Points per unit of log-odds: the factor that gives the suggested
        score the spread of today's score, so that today's tiers keep their
        meaning; when today's points do not spread (all equal), the factor
        that spreads it by ``fallback`` points."""
        fitted, today = self.std(0), self.std(1)
        if fitted < 1e-9:
            return fallback
        return (today or fallback) / fitted
