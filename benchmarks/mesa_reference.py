"""The core word-of-mouth-plus-ads rules written the way a Mesa 3.5 user would write them.

A reference for the side-by-side benchmark (benchmarks/bench_mesa.py) and its test
(tests/test_mesa_reference.py). One :class:`Consumer` agent per node of a
``mesa.discrete_space.Network``; each day every agent that has not adopted

* adopts because of the brand's ads with probability ``p`` (ads as a per-agent probability), or
* looks at its neighbours on the network and adopts from each neighbour who had adopted *before
  today* with probability ``q / k`` (``k``: the graph's nominal mean degree).

These are the rules of ``simulation.validation.bass_scenario(p, q, size, days, network=...,
mean_degree=k)`` on a graph: there, every adopter posts a review every day, a friend sees each
review with probability ``1 / k`` and is persuaded by it with probability ``q``; an ad reaches
every consumer once a day and persuades with probability ``p``; one persuasion is a purchase; a
consumer reads its friends' *yesterday* posts, so adoption on day t depends on adopters up to day
t - 1 (a synchronous update). The daily adoption probability of a non-adopter with ``a`` adopted
friends is therefore ``1 - (1 - p)(1 - q / k)^a`` in both.

Nothing here is vectorised: it is the idiom of Mesa's examples (``shuffle_do("step")``, a
``DataCollector``, neighbours through ``cell.neighborhood.agents``).
"""

from __future__ import annotations

import mesa
import networkx as nx
from mesa.discrete_space import FixedAgent, Network


class Consumer(FixedAgent):
    """A consumer fixed to its node of the social network."""

    def __init__(self, model: BassNetworkModel, cell) -> None:
        super().__init__(model)
        self.cell = cell
        self.adopted_day: int | None = None  # the day it adopted (None: not yet)

    def step(self) -> None:
        if self.adopted_day is not None:
            return
        model = self.model
        adopt = self.random.random() < model.p  # the ad of the day persuades
        if not adopt:
            for friend in self.cell.neighborhood.agents:
                # Friends who adopted before today talk about it; each talk persuades w.p. q / k.
                if (friend.adopted_day is not None and friend.adopted_day < model.day
                        and self.random.random() < model.q_per_friend):
                    adopt = True
                    break
        if adopt:
            self.adopted_day = model.day
            model.adopters += 1


class BassNetworkModel(mesa.Model):
    """Bass diffusion (ads + word of mouth) on a social network, the Mesa way.

    Args:
        graph: a NetworkX graph (nodes 0..n-1), e.g. ``SocialGraph.to_networkx()``.
        p: P(the day's ad persuades a non-adopter).
        q: coefficient of imitation; each adopted friend persuades with ``q / mean_degree``.
        mean_degree: k, the nominal friends per consumer.
        seed: seed of the model's random number generators.
    """

    def __init__(self, graph: nx.Graph, p: float, q: float, mean_degree: float,
                 seed: int | None = None) -> None:
        super().__init__(rng=seed)
        self.p = p
        self.q_per_friend = min(1.0, q / mean_degree)
        self.day = 0
        self.adopters = 0
        # layout=None: no spring layout (minutes at 100k nodes); a purely topological network.
        self.grid = Network(graph, random=self.random, layout=None)
        Consumer.create_agents(self, graph.number_of_nodes(),
                               [self.grid[node] for node in graph.nodes])
        self.datacollector = mesa.DataCollector(model_reporters={"adopters": "adopters"})

    def step(self) -> None:
        self.agents.shuffle_do("step")
        self.day += 1
        self.datacollector.collect(self)


def adoption_curve(graph: nx.Graph, p: float, q: float, mean_degree: float, days: int,
                   seed: int | None = None) -> list[int]:
    """Cumulative adopters after each of ``days`` days."""
    model = BassNetworkModel(graph, p, q, mean_degree, seed=seed)
    for _ in range(days):
        model.step()
    return model.datacollector.get_model_vars_dataframe()["adopters"].tolist()
