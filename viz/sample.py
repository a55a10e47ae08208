"""The network panel's sample: a connected piece of the social graph, laid out once.

Drawing a 20,000-node graph in a browser is neither fast nor readable, and force layouts of large
graphs take minutes. The panel draws at most ``config.SAMPLE_NODES`` consumers: a breadth-first snowball
from a few random starting consumers (so the sample keeps friendships and hubs), with a force layout of
that small induced subgraph computed once per graph and cached. A well-mixed (complete) audience has no
stored edges: its sample is random consumers on a circle.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

from viz import config

_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


@dataclass(frozen=True)
class Sample:
    """Consumers ``ids`` drawn at ``xy`` (unit square), with the edges among them (``u``, ``v`` are
    positions in ``ids``)."""

    ids: np.ndarray
    xy: np.ndarray
    u: np.ndarray
    v: np.ndarray


def sample_for(model, size: int = config.SAMPLE_NODES) -> Sample:
    """The model's sample, cached by graph: lever changes that keep the graph (budgets, posts,
    price) reuse the layout."""
    g = model.graph
    key = (g.n, int(g.indices.shape[0]), int(g.indices[:64].sum()) if g.indices.size else 0,
           int(model.seed), size, bool(g.complete))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    sample = build_sample(g, size, int(model.seed))
    with _CACHE_LOCK:
        _CACHE[key] = sample
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return sample


def build_sample(graph, size: int, seed: int) -> Sample:
    """Snowball-sample up to ``size`` nodes of ``graph`` and lay them out."""
    rng = np.random.default_rng([seed, 7_919])
    n = graph.n
    if graph.complete or n == 0:
        ids = np.sort(rng.choice(n, size=min(size, n), replace=False)) if n else np.zeros(0, np.int64)
        angle = np.linspace(0, 2 * np.pi, ids.shape[0], endpoint=False)
        xy = 0.5 + 0.45 * np.c_[np.cos(angle), np.sin(angle)]
        empty = np.zeros(0, dtype=np.int64)
        return Sample(ids.astype(np.int64), xy, empty, empty)
    ids = _snowball(graph, min(size, n), rng)
    u, v = _induced_edges(graph, ids)
    xy = force_layout(ids.shape[0], u, v, rng)
    return Sample(ids, xy, u, v)


def _snowball(graph, size: int, rng: np.random.Generator) -> np.ndarray:
    indptr, indices = graph.indptr, graph.indices
    chosen: dict[int, None] = {}
    queue: deque[int] = deque()
    while len(chosen) < size:
        if not queue:  # a new start: the sample may span several components
            start = int(rng.integers(graph.n))
            if start in chosen:
                continue
            chosen[start] = None
            queue.append(start)
            continue
        node = queue.popleft()
        friends = indices[indptr[node]:indptr[node + 1]]
        # Shuffled so a hub's first-listed friends are not always the ones taken.
        for f in rng.permutation(friends):
            f = int(f)
            if f not in chosen:
                chosen[f] = None
                queue.append(f)
                if len(chosen) >= size:
                    break
    return np.fromiter(chosen, dtype=np.int64, count=len(chosen))


def _induced_edges(graph, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges among ``ids``, each once, as positions in ``ids``."""
    where = np.full(graph.n, -1, dtype=np.int64)
    where[ids] = np.arange(ids.shape[0])
    starts, ends = graph.indptr[ids], graph.indptr[ids + 1]
    counts = ends - starts
    src = np.repeat(np.arange(ids.shape[0]), counts)
    flat = np.concatenate([graph.indices[s:e] for s, e in zip(starts, ends, strict=True)]) \
        if ids.shape[0] else np.zeros(0, dtype=np.int64)
    dst = where[flat]
    keep = (dst >= 0) & (src < dst)
    return src[keep], dst[keep]


def force_layout(n: int, u: np.ndarray, v: np.ndarray, rng: np.random.Generator,
                 iterations: int = 60) -> np.ndarray:
    """Fruchterman-Reingold on a small graph, vectorised (float32 all-pairs repulsion); returns
    positions scaled into [0.03, 0.97]^2."""
    if n == 0:
        return np.zeros((0, 2))
    pos = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    k = np.float32(2.0 / np.sqrt(n))
    temp = np.float32(0.2)
    cool = temp / iterations
    x, y = pos[:, 0].copy(), pos[:, 1].copy()
    kk = k * k
    for _ in range(iterations):
        # x and y apart: two n x n float32 arrays instead of an n x n x 2 one (about 3x faster).
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        inv = dx * dx
        inv += dy * dy
        np.maximum(inv, np.float32(1e-4), out=inv)
        np.divide(kk, inv, out=inv)
        disp = np.empty((n, 2), dtype=np.float32)
        disp[:, 0] = (dx * inv).sum(axis=1)
        disp[:, 1] = (dy * inv).sum(axis=1)
        pos = np.c_[x, y]
        if u.shape[0]:
            d = pos[u] - pos[v]
            pull = d * (np.sqrt((d ** 2).sum(axis=1)) / k)[:, None]
            np.add.at(disp, u, -pull)
            np.add.at(disp, v, pull)
        disp -= pos * np.float32(0.05) * n / 100  # gentle gravity keeps separate pieces in view
        length = np.maximum(np.sqrt((disp ** 2).sum(axis=1)), np.float32(1e-6))
        pos += disp / length[:, None] * np.minimum(length, temp)[:, None]
        x, y = pos[:, 0].copy(), pos[:, 1].copy()
        temp -= cool
    # Scale by the 1st-99th percentiles so a few stragglers do not shrink the rest into a dot.
    lo, hi = np.percentile(pos, 1, axis=0), np.percentile(pos, 99, axis=0)
    span = np.maximum(hi - lo, 1e-6)
    return np.clip(0.05 + 0.9 * (pos - lo) / span, 0.01, 0.99).astype(np.float64)
