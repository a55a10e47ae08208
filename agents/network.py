"""The social graph: generators straight into CSR, import from files, export to NetworkX.

Large generated graphs must not take minutes, so generators write edge arrays (numpy, or numba
loops for the preferential-attachment models) and build a compressed sparse row (CSR) graph:
``indptr`` (int64, n + 1) and ``indices`` (int32). NetworkX is used for file import and for analysis
on demand (:meth:`SocialGraph.to_networkx`). A ``complete`` network is never materialised: the model
treats it as well mixed (each consumer meets ``mean_degree`` random others a day) in aggregate.

Every generator takes a ``seed`` and never touches global random state.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
from numba import njit

MAX_GRAPH_NODES = 50_000_000
#: Largest graph file read, in bytes of text (after decompression for .gz, .bz2, .xz). Reading
#: holds about 17 times the text in memory for an edge list and about 28 times for GraphML or
#: GEXF (measured), so these caps bound a read to about 4.5 GB and 1.8 GB. 256 MiB of edge list
#: is about 18 million edges, three times the 1,000,000-consumer graph of benchmarks/bench_scale.
MAX_EDGELIST_BYTES = 256 * 2**20
MAX_XML_GRAPH_BYTES = 64 * 2**20
_DECOMPRESS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


class GraphFileError(ValueError):
    """A graph file that cannot be read; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass
class SocialGraph:
    """An undirected graph in CSR form.

    Attributes:
        n: number of nodes (consumers).
        indptr: int64 array, node i's neighbours are ``indices[indptr[i]:indptr[i + 1]]``.
        indices: int32 array of neighbour ids.
        complete: True for a well-mixed population (no edges are stored).
        mean_degree: contacts per consumer per day when ``complete``; otherwise the graph's mean.
        communities: community label per node (stochastic block model), or None.
        labels: original node ids of an imported file, or None.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    complete: bool = False
    mean_degree: float = 0.0
    communities: np.ndarray | None = None
    labels: np.ndarray | None = field(default=None, repr=False)
    _mirror: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n_edges(self) -> int:
        """Undirected edges (for a complete graph, the implied n(n-1)/2)."""
        if self.complete:
            return self.n * (self.n - 1) // 2
        return int(self.indices.shape[0] // 2)

    def degree(self) -> np.ndarray:
        """Degree of every node (n - 1 for a complete graph)."""
        if self.complete:
            return np.full(self.n, self.n - 1, dtype=np.int64)
        return np.diff(self.indptr)

    def mirror_positions(self) -> np.ndarray:
        """For each entry e of ``indices`` (an edge from node j to node i), the position of j in
        i's friend list (int32). Computed once, then kept: the exposure pass pushes friends'
        posts along edges and needs the index a pull from i's side would have used."""
        if self._mirror is None:
            object.__setattr__(self, "_mirror", _mirror_positions(self.indptr, self.indices, self.n))
        return self._mirror

    def triangles(self) -> np.ndarray:
        """Triangles through every node (0 for a complete graph, which has no structure)."""
        if self.complete:
            return np.zeros(self.n, dtype=np.int64)
        return _triangles(self.indptr, self.indices, self.n)

    def effective_size(self) -> np.ndarray:
        """Burt's (1992) effective size: degree - 2 x triangles / degree, the number of
        non-redundant friends; high for brokers who bridge groups that do not know each other."""
        deg = self.degree().astype(np.float64)
        return deg - 2.0 * self.triangles() / np.maximum(deg, 1.0)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Each undirected edge once, as (u, v) arrays with u < v."""
        if self.complete:
            raise ValueError("a complete graph's edges are not materialised")
        src = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.indptr))
        keep = src < self.indices
        return src[keep], self.indices[keep].astype(np.int64)

    def to_networkx(self) -> nx.Graph:
        """The graph as a NetworkX Graph (for analysis and small graphs)."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        if self.complete:
            g.add_edges_from(nx.complete_graph(self.n).edges)
        else:
            u, v = self.edges()
            g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
        return g


# --- CSR construction ----------------------------------------------------------------------------


def from_edges(n: int, u: np.ndarray, v: np.ndarray, **extra) -> SocialGraph:
    """Build a CSR graph from edge arrays; drops self-loops and duplicate edges.

    Each node's neighbours come out sorted ascending. Built by a counting sort in one compiled
    pass (O(nodes + edges)): a million nodes with five million edges take under a second.
    """
    u = np.ascontiguousarray(u, dtype=np.int64)
    v = np.ascontiguousarray(v, dtype=np.int64)
    indptr, indices = _csr(n, u, v)
    mean = float(indices.shape[0]) / max(n, 1)
    return SocialGraph(n=n, indptr=indptr, indices=indices, mean_degree=mean, **extra)


@njit(cache=True)
def _csr(n, u, v):
    """Undirected CSR of the edges (u[k], v[k]): both directions, no self-loops, no duplicates,
    neighbours sorted."""
    count = np.zeros(n + 1, dtype=np.int64)
    for k in range(u.shape[0]):
        if u[k] != v[k]:
            count[u[k] + 1] += 1
            count[v[k] + 1] += 1
    for i in range(n):
        count[i + 1] += count[i]
    fill = count[:-1].copy()
    raw = np.empty(count[n], dtype=np.int32)
    for k in range(u.shape[0]):
        a, b = u[k], v[k]
        if a != b:
            raw[fill[a]] = b
            fill[a] += 1
            raw[fill[b]] = a
            fill[b] += 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    out = 0
    for i in range(n):
        row = np.sort(raw[count[i]:count[i + 1]])
        for k in range(row.shape[0]):
            if k == 0 or row[k] != row[k - 1]:
                raw[out] = row[k]
                out += 1
        indptr[i + 1] = out
    return indptr, raw[:out].copy()


def from_networkx(g: nx.Graph) -> SocialGraph:
    """Convert a NetworkX graph (any node labels) to CSR; labels are kept in ``.labels``."""
    nodes = list(g.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    if g.number_of_edges():
        uv = np.array([(index[a], index[b]) for a, b in g.edges], dtype=np.int64)
    else:
        uv = np.zeros((0, 2), dtype=np.int64)
    return from_edges(len(nodes), uv[:, 0], uv[:, 1], labels=np.array(nodes, dtype=object))


# --- generators ----------------------------------------------------------------------------------


def generate(model: str, n: int, mean_degree: float, seed: int, *, triangle_prob: float = 0.3,
             rewire_prob: float = 0.1, communities: int = 10, mixing: float = 0.1) -> SocialGraph:
    """Generate a social graph of ``n`` nodes with about ``mean_degree`` friends each.

    Args:
        model: one of barabasi_albert, watts_strogatz, powerlaw_cluster, stochastic_block,
            erdos_renyi, complete.
        n: number of nodes.
        mean_degree: target mean degree (friends per node).
        seed: seed of the generator (an int; global random state is not used).
        triangle_prob: powerlaw_cluster (Holme & Kim 2002): P(a new edge closes a triangle).
        rewire_prob: watts_strogatz: P(an edge of the ring lattice is rewired).
        communities: stochastic_block: number of equal-sized communities.
        mixing: stochastic_block: share of edges that run between communities.
    """
    rng = np.random.default_rng(seed)
    if model == "complete":
        return SocialGraph(n=n, indptr=np.zeros(n + 1, dtype=np.int64),
                           indices=np.zeros(0, dtype=np.int32), complete=True,
                           mean_degree=min(float(mean_degree), float(max(n - 1, 0))))
    if n < 2:
        return from_edges(n, np.zeros(0), np.zeros(0))
    m = max(1, min(n - 1, int(round(mean_degree / 2))))
    if model == "erdos_renyi":
        u, v = _gnp_edges(rng, n, min(1.0, mean_degree / (n - 1)))
        return from_edges(n, u, v)
    if model == "barabasi_albert":
        u, v = _preferential(n, m, 0.0, _seed64(rng))
        return from_edges(n, u, v)
    if model == "powerlaw_cluster":
        u, v = _preferential(n, m, triangle_prob, _seed64(rng))
        return from_edges(n, u, v)
    if model == "watts_strogatz":
        return from_edges(n, *_watts_strogatz(rng, n, mean_degree, rewire_prob))
    if model == "stochastic_block":
        return _stochastic_block(rng, n, mean_degree, communities, mixing)
    raise ValueError(f"unknown network model {model!r}")


def _seed64(rng: np.random.Generator) -> np.uint64:
    return np.uint64(rng.integers(0, 2**63, dtype=np.int64))


def _gnm_pairs(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """m distinct unordered pairs of distinct nodes, uniformly (G(n, m))."""
    m = int(min(m, n * (n - 1) // 2))
    keys = np.zeros(0, dtype=np.int64)
    while keys.shape[0] < m:
        need = m - keys.shape[0]
        a = rng.integers(0, n, size=int(need * 1.1) + 16)
        b = rng.integers(0, n, size=a.shape[0])
        ok = a != b
        lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
        new = _sorted_unique(lo * n + hi)
        merged = _sorted_unique(np.concatenate([keys, new]))
        if merged.shape[0] > m:  # keep a uniform subset of the newly found pairs
            fresh = new[~_contains(keys, new)]
            fresh = rng.permutation(fresh)[: m - keys.shape[0]]
            merged = _sorted_unique(np.concatenate([keys, fresh]))
        keys = merged
    return keys // n, keys % n


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy >= 2.3's hash-based unique takes a minute on 5M keys)."""
    x = np.sort(x)
    return x[np.concatenate([[True], x[1:] != x[:-1]])] if x.shape[0] else x


def _contains(sorted_keys: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Which entries of x are in the sorted array ``sorted_keys``."""
    if sorted_keys.shape[0] == 0:
        return np.zeros(x.shape[0], dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, x), sorted_keys.shape[0] - 1)
    return sorted_keys[at] == x


def _gnp_edges(rng: np.random.Generator, n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """G(n, p): a binomial number of edges, then that many uniform pairs."""
    m = rng.binomial(n * (n - 1) // 2, p)
    return _gnm_pairs(rng, n, m)


def _watts_strogatz(rng, n, mean_degree, p):
    k = max(2, int(round(mean_degree)) // 2 * 2)
    k = min(k, n - 1 - (n - 1) % 2)
    base = np.repeat(np.arange(n, dtype=np.int64), k // 2)
    step = np.tile(np.arange(1, k // 2 + 1, dtype=np.int64), n)
    u, v = base, (base + step) % n
    rewire = rng.random(u.shape[0]) < p
    v = v.copy()
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    return u, v


def _stochastic_block(rng, n, mean_degree, communities, mixing) -> SocialGraph:
    c = max(1, min(communities, n))
    label = rng.permutation(np.arange(n) % c)
    members = [np.flatnonzero(label == k) for k in range(c)]
    us, vs = [], []
    for mem in members:
        s = mem.shape[0]
        if s < 2:
            continue
        p_in = min(1.0, mean_degree * (1 - mixing) / (s - 1))
        a, b = _gnp_edges(rng, s, p_in)
        us.append(mem[a])
        vs.append(mem[b])
    m_out = rng.binomial(max(n * (n - 1) // 2, 0), min(1.0, n * mean_degree * mixing / 2 /
                                                          max(n * (n - 1) / 2, 1)))
    if c > 1 and m_out:
        a, b = _gnm_pairs(rng, n, int(m_out * 1.0 * c / max(c - 1, 1)) + 1)
        between = label[a] != label[b]
        us.append(a[between][:m_out])
        vs.append(b[between][:m_out])
    u = np.concatenate(us) if us else np.zeros(0, dtype=np.int64)
    v = np.concatenate(vs) if vs else np.zeros(0, dtype=np.int64)
    return from_edges(n, u, v, communities=label.astype(np.int32))


@njit(cache=True)
def _unit(key, counter):
    z = key + np.uint64(counter) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _preferential(n, m, triangle_prob, key):
    """Barabasi-Albert (triangle_prob = 0) or Holme-Kim powerlaw-cluster growth.

    Starts from a clique of m + 1 nodes; each new node links to m distinct existing nodes, the
    first by preferential attachment, each further one closing a triangle with probability
    ``triangle_prob`` (a random neighbour of the previous target) or else preferentially.
    Neighbour lists are growable vectors in one pool, so a random neighbour costs O(1) (a linked
    list walk cost O(degree): seconds at a million nodes, where hubs have thousands of friends).
    """
    m0 = m + 1
    e_cap = m0 * (m0 - 1) // 2 + (n - m0) * m
    eu = np.empty(e_cap, dtype=np.int64)
    ev = np.empty(e_cap, dtype=np.int64)
    rep = np.empty(2 * e_cap, dtype=np.int64)  # each edge's two ends: degree-proportional sampling
    # Node a's neighbours, oldest first, are pool[start[a] : start[a] + deg[a]] (capacity cap[a]).
    # Sized for the worst case: the first 2m slots of every node, plus the doublings of a node of
    # final degree d, under 4d in all. np.empty does not touch the pages: only used ones count.
    pool = np.empty(2 * m * n + m0 * m0 + 8 * e_cap, dtype=np.int32)
    start = np.zeros(n, dtype=np.int64)
    cap = np.zeros(n, dtype=np.int64)
    deg = np.zeros(n, dtype=np.int64)
    top = 0
    for a in range(n):  # room for the first 2 m neighbours of every node
        start[a] = top
        cap[a] = 2 * m if a >= m0 else m0 + m
        top += cap[a]
    ne = 0
    counter = 0
    for a in range(m0):
        for b in range(a + 1, m0):
            eu[ne] = a
            ev[ne] = b
            rep[2 * ne] = a
            rep[2 * ne + 1] = b
            top = _push(pool, start, cap, deg, top, a, b)
            top = _push(pool, start, cap, deg, top, b, a)
            ne += 1
    targets = np.empty(m, dtype=np.int64)
    for v in range(m0, n):
        nt = 0
        tries = 0
        while nt < m:
            tries += 1
            t = -1
            if nt > 0 and triangle_prob > 0.0 and tries < 50 * m:
                counter += 1
                if _unit(key, counter) < triangle_prob:
                    last = targets[nt - 1]
                    counter += 1
                    k = int(_unit(key, counter) * deg[last])
                    t = pool[start[last] + deg[last] - 1 - k]  # the k-th newest neighbour
            if t < 0:
                counter += 1
                t = rep[int(_unit(key, counter) * (2 * ne))]
            dup = False
            for j in range(nt):
                if targets[j] == t:
                    dup = True
                    break
            if not dup:
                targets[nt] = t
                nt += 1
        for j in range(m):
            t = targets[j]
            eu[ne] = v
            ev[ne] = t
            rep[2 * ne] = v
            rep[2 * ne + 1] = t
            top = _push(pool, start, cap, deg, top, v, t)
            top = _push(pool, start, cap, deg, top, t, v)
            ne += 1
    return eu[:ne], ev[:ne]


@njit(cache=True, inline="always")
def _push(pool, start, cap, deg, top, a, b):
    """Append b to node a's neighbour vector (moved to the pool's end, doubled, when full);
    returns the pool's new top."""
    if deg[a] == cap[a]:
        new_cap = 2 * cap[a]
        if top + new_cap > pool.shape[0]:
            raise MemoryError("neighbour pool exhausted")  # cannot happen: see its size
        pool[top:top + deg[a]] = pool[start[a]:start[a] + deg[a]]
        start[a] = top
        cap[a] = new_cap
        top += new_cap
    pool[start[a] + deg[a]] = b
    deg[a] += 1
    return top


# --- files ---------------------------------------------------------------------------------------


def read_graph(path: str | Path, fmt: str | None = None) -> SocialGraph:
    """Read a graph file: an edge list (two node ids per line, ``#`` comments), GraphML or GEXF;
    ``.gz``, ``.bz2`` and ``.xz`` files are decompressed (the format is then read from the
    extension before the compression's, e.g. ``edges.graphml.gz``).

    Node ids are labels, whatever their size (relabelled 0..n-1, so an id of 10**12 sizes
    nothing); repeated edges are dropped. Refused: an edge from a node to itself (naming the
    line, or the node for GraphML and GEXF), a path that is not a regular
    file, text past :data:`MAX_EDGELIST_BYTES` (edge lists) or :data:`MAX_XML_GRAPH_BYTES`
    (GraphML, GEXF) - checked on the file's size before reading and again while reading, so a
    compressed bomb stops at the cap - more than :data:`MAX_GRAPH_NODES` nodes, and a file with
    no edge between two different nodes.

    Raises:
        GraphFileError: naming the line of a malformed edge list, or the limit passed.
    """
    path = Path(path)
    compressed = path.suffix.lower() in _DECOMPRESS
    inner = Path(path.stem).suffix if compressed else path.suffix
    fmt = fmt or {".graphml": "graphml", ".gexf": "gexf"}.get(inner.lower(), "edgelist")
    limit = MAX_EDGELIST_BYTES if fmt == "edgelist" else MAX_XML_GRAPH_BYTES
    _check_file(path, limit, compressed)
    if fmt == "edgelist":
        graph = read_edgelist(path)
    else:
        try:
            with _open_capped(path, limit) as fh:
                g = nx.read_graphml(fh) if fmt == "graphml" else nx.read_gexf(fh)
        except GraphFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
            raise GraphFileError(f"not a valid {fmt} file: {exc}") from None
        if g.is_directed():
            g = g.to_undirected()
        if g.number_of_nodes() > MAX_GRAPH_NODES:
            raise GraphFileError(f"more than {MAX_GRAPH_NODES:,} nodes")
        loop = next(iter(nx.selfloop_edges(g)), None)
        if loop is not None:
            raise GraphFileError(_self_loop_message(str(loop[0])))
        graph = from_networkx(g)
    if graph.n_edges == 0:
        raise GraphFileError("the file has no edge between two different nodes")
    return graph


def _check_file(path: Path, limit: int, compressed: bool) -> None:
    """A regular file of at most ``limit`` bytes of text. A compressed file is decompressed once
    without parsing (about a second per 256 MiB) so that a bomb is refused before any parsing."""
    try:
        info = path.stat()
    except OSError as exc:
        raise GraphFileError(f"cannot be opened ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise GraphFileError("not a regular file (a device, pipe or folder cannot be a graph)")
    if not compressed and info.st_size > limit:
        raise GraphFileError(_too_large(limit, info.st_size))
    if compressed:
        buffer = bytearray(1 << 20)
        try:
            with _open_capped(path, limit) as fh:
                while fh.readinto(buffer):
                    pass
        except (OSError, EOFError, lzma.LZMAError) as exc:  # not a .gz/.bz2/.xz after all
            raise GraphFileError(f"cannot be decompressed ({exc})") from None


def _too_large(limit: int, size: int | None = None) -> str:
    what = "the text read from the graph file" if size is None else f"the graph file ({size:,} bytes)"
    return (f"{what} is larger than {limit:,} bytes, the limit for its format (edge list: "
            f"MAX_EDGELIST_BYTES, GraphML/GEXF: MAX_XML_GRAPH_BYTES in agents/network.py)")


class _Capped(io.RawIOBase):
    """A binary reader that raises :class:`GraphFileError` once more than ``limit`` bytes have been
    read: the cap holds for decompressed text and for files that grow while read."""

    def __init__(self, raw, limit: int):
        self.raw = raw
        self.limit = limit
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.total += n or 0
        if self.total > self.limit:
            raise GraphFileError(_too_large(self.limit))
        return n

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            super().close()


def _open_capped(path: Path, limit: int) -> io.BufferedReader:
    opener = _DECOMPRESS.get(path.suffix.lower())
    raw = opener(path, "rb") if opener else open(path, "rb", buffering=0)  # noqa: SIM115
    return io.BufferedReader(_Capped(raw, limit), buffer_size=1 << 20)


def read_edgelist(path: Path) -> SocialGraph:
    """Read a whitespace-separated edge list; node ids may be any tokens (relabelled 0..n-1)."""
    import pandas as pd

    try:
        with _open_capped(path, MAX_EDGELIST_BYTES) as fh:
            df = pd.read_csv(fh, sep=r"\s+", comment="#", header=None, usecols=[0, 1], dtype=str,
                             engine="c", names=["u", "v"], on_bad_lines="error",
                             skip_blank_lines=True, encoding="utf-8")
    except GraphFileError:
        raise
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        _raise_bad_line(path)
        raise GraphFileError("cannot be read as an edge list") from None
    except pd.errors.EmptyDataError:
        raise GraphFileError("the file has no edges") from None
    except (OSError, EOFError, lzma.LZMAError) as exc:  # e.g. the file went away
        raise GraphFileError(f"cannot be read ({exc})") from None
    if df["v"].isna().any():
        _raise_bad_line(path)
    if df.shape[0] == 0:
        raise GraphFileError("the file has no edges")
    if (df["u"] == df["v"]).any():
        _raise_self_loop(path)
    codes, labels = pd.factorize(pd.concat([df["u"], df["v"]], ignore_index=True))
    if labels.shape[0] > MAX_GRAPH_NODES:
        raise GraphFileError(f"more than {MAX_GRAPH_NODES:,} nodes")
    half = df.shape[0]
    numeric = pd.to_numeric(pd.Series(labels), errors="coerce")
    # Numbers only while distinct ids stay distinct (ids past 2**63 become floats that may collide).
    as_numbers = not numeric.isna().any() and numeric.is_unique
    labels_out = numeric.to_numpy() if as_numbers else np.asarray(labels)
    return from_edges(labels.shape[0], codes[:half], codes[half:], labels=labels_out)


#: Characters of a file's line (or node id) quoted in a message; the rest is cut.
EXCERPT_CHARS = 32


def _excerpt(text: str) -> str:
    """A short, printable quotation of the file's text: at most :data:`EXCERPT_CHARS` characters,
    control and other unprintable characters escaped (repr), longer text cut with ``...``."""
    text = text.strip()
    short = repr(text[:EXCERPT_CHARS])
    return f"{short}... ({len(text):,} characters)" if len(text) > EXCERPT_CHARS else short


def _raise_bad_line(path: Path) -> None:
    with io.TextIOWrapper(_open_capped(path, MAX_EDGELIST_BYTES), encoding="utf-8",
                          errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.split("#", 1)[0].strip()
            if text and len(text.split()) < 2:
                raise GraphFileError(f"expected two node ids, got {_excerpt(line)}", line=number)
            if text and len(text.split()) > 3:
                raise GraphFileError(
                    f"expected two node ids (and an optional weight), got {_excerpt(line)}",
                    line=number)


def _self_loop_message(node: str) -> str:
    return (f"an edge from node {_excerpt(node)} to itself: self-loops are not allowed (a consumer "
            "is not their own contact); remove that edge from the file")


def _raise_self_loop(path: Path) -> None:
    """Name the first line of an edge list whose two node ids are equal."""
    with io.TextIOWrapper(_open_capped(path, MAX_EDGELIST_BYTES), encoding="utf-8",
                          errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            ids = line.split("#", 1)[0].split()
            if len(ids) >= 2 and ids[0] == ids[1]:
                raise GraphFileError(_self_loop_message(ids[0]), line=number)
    raise GraphFileError("the file has an edge from a node to itself: self-loops are not allowed")


@njit(cache=True)
def _mirror_positions(indptr, indices, n):
    """One sweep over the rows in order: rows are sorted, so node j's entries for i = 0, 1, ...
    come up in the order they sit in j's row, and a cursor per row finds each in O(1)."""
    mirror = np.zeros(indices.shape[0], dtype=np.int32)
    cursor = indptr[:-1].copy()
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            mirror[cursor[j]] = e - indptr[i]
            cursor[j] += 1
    return mirror


@njit(cache=True)
def _triangles(indptr, indices, n):
    """Triangles at each node of a CSR graph: mark a node's friends, count friends' marked friends."""
    mark = np.full(n, -1, dtype=np.int64)
    out = np.zeros(n, dtype=np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            mark[indices[e]] = u
        links = 0
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            for f in range(indptr[v], indptr[v + 1]):
                if mark[indices[f]] == u:
                    links += 1
        out[u] = links // 2
    return out
