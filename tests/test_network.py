"""Social graphs: generators (seeded, fast, right degree), file import, NetworkX export."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from agents.network import GraphFileError, generate, read_graph
from tests.conftest import SCENARIOS

MODELS = ["barabasi_albert", "watts_strogatz", "powerlaw_cluster", "stochastic_block",
          "erdos_renyi"]


@pytest.mark.parametrize("model", MODELS)
def test_generators_seeded_simple_and_right_degree(model):
    g = generate(model, 5000, 10, seed=1)
    again = generate(model, 5000, 10, seed=1)
    other = generate(model, 5000, 10, seed=2)
    assert np.array_equal(g.indices, again.indices)
    assert not np.array_equal(g.indices, other.indices)
    deg = g.degree()
    assert abs(deg.mean() - 10) < 1.0
    u, v = g.edges()
    assert (u != v).all() and len(set(zip(u.tolist(), v.tolist(), strict=False))) == u.size
    nxg = g.to_networkx()
    assert nxg.number_of_nodes() == 5000 and nxg.number_of_edges() == g.n_edges


def test_powerlaw_cluster_is_clustered_and_heavy_tailed():
    g = generate("powerlaw_cluster", 5000, 10, seed=3, triangle_prob=0.5).to_networkx()
    ba = generate("barabasi_albert", 5000, 10, seed=3).to_networkx()
    assert nx.average_clustering(g) > 2 * nx.average_clustering(ba)
    assert max(d for _, d in g.degree()) > 10 * 10


def test_complete_is_not_materialised():
    g = generate("complete", 1_000_000, 20, seed=0)
    assert g.complete and g.indices.size == 0 and g.mean_degree == 20


def test_real_facebook_graph():
    g = read_graph(SCENARIOS / "data" / "facebook_combined.txt")
    assert g.n == 4039 and g.n_edges == 88234


def test_graphml_and_gexf_import(tmp_path):
    src = nx.karate_club_graph()
    for ext, writer in (("graphml", nx.write_graphml), ("gexf", nx.write_gexf)):
        path = tmp_path / f"k.{ext}"
        writer(src, path)
        g = read_graph(path)
        assert g.n == 34 and g.n_edges == src.number_of_edges()


def test_edgelist_malformed_line_named(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("# c\n1 2\n3\n")
    with pytest.raises(GraphFileError, match="line 3"):
        read_graph(path)


def test_edgelist_drops_duplicates(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("a b\nb a\nb c\nc b\n")
    g = read_graph(path)
    assert g.n == 3 and g.n_edges == 2


def test_self_loops_refused_naming_the_line_or_node(tmp_path):
    """Issue 9: an edge from a node to itself is refused, not dropped: the edge list's line (past
    comments and blank lines), or the node of a GraphML or GEXF file."""
    path = tmp_path / "e.txt"
    path.write_text("# comment\na b\n\nb c  # x\nc c\nd e\n")
    with pytest.raises(GraphFileError, match=r"^line 5: an edge from node 'c' to itself"):
        read_graph(path)
    g = nx.Graph([("n1", "n2"), ("n2", "n2")])
    for ext, writer in (("graphml", nx.write_graphml), ("gexf", nx.write_gexf)):
        writer(g, tmp_path / f"g.{ext}")
        with pytest.raises(GraphFileError, match="an edge from node 'n2' to itself"):
            read_graph(tmp_path / f"g.{ext}")
    nx.write_graphml(nx.DiGraph([(1, 2), (2, 2)]), tmp_path / "d.graphml.gz")
    with pytest.raises(GraphFileError, match="self-loops are not allowed"):
        read_graph(tmp_path / "d.graphml.gz")


def test_real_facebook_graph_has_no_self_loops():
    text = (SCENARIOS / "data" / "facebook_combined.txt").read_text().split()
    assert not any(u == v for u, v in zip(text[::2], text[1::2], strict=True))


def test_bad_line_quoted_short_and_printable(tmp_path):
    """A malformed line is quoted in at most 32 characters, control characters escaped."""
    path = tmp_path / "e.txt"
    path.write_text("1 2\n" + "secret\x1b[2J" * 1000 + "\n")
    with pytest.raises(GraphFileError) as info:
        read_graph(path)
    message = str(info.value)
    assert message.startswith("line 2: expected two node ids") and len(message) < 120, message
    assert "\x1b" not in message and "\\x1b" in message and "(10,000 characters)" in message


def test_effective_size_counts_non_redundant_friends():
    import networkx as nx

    from agents.network import from_networkx

    # Two triangles joined at node 2, plus a pendant node 5 on node 2: node 2 is the broker.
    g = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (2, 4), (2, 5)])
    graph = from_networkx(g)
    tri = nx.triangles(g)
    assert list(graph.triangles()) == [tri[u] for u in sorted(g.nodes)]
    eff = nx.effective_size(g)
    assert list(graph.effective_size()) == pytest.approx([eff[u] for u in sorted(g.nodes)])
    assert int(graph.effective_size().argmax()) == 2


@pytest.mark.parametrize("model", ["powerlaw_cluster", "erdos_renyi", "stochastic_block"])
def test_mirror_positions_point_back_along_each_edge(model):
    g = generate(model, 3000, 8, 11)
    mirror = g.mirror_positions()
    tail = np.repeat(np.arange(g.n), np.diff(g.indptr))  # entry e is the edge tail -> indices[e]
    head = g.indices.astype(np.int64)
    assert (g.indices[g.indptr[head] + mirror] == tail).all()
    assert g.mirror_positions() is mirror  # computed once
