"""Weighted roll-up of scores, renormalised over the members that have a score."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.scoring.statuses import Coverage


def rollup(members: Sequence[tuple[float | None, float]]) -> tuple[float | None, Coverage]:
    """The weighted mean of the members' (score, weight) that scored, and the coverage."""
    members = [(s, w) for s, w in members if w > 0]  # weight 0: not in the roll-up this period
    scored = [(s, w) for s, w in members if s is not None]
    total_weight = float(sum(w for _, w in members))
    scored_weight = float(sum(w for _, w in scored))
    coverage = Coverage(len(scored), len(members), scored_weight, total_weight)
    if not scored or scored_weight == 0:
        return None, coverage
    return sum(s * w for s, w in scored) / scored_weight, coverage
