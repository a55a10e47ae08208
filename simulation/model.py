"""FunnelModel: builds the parts of a scenario and runs the daily process (DESIGN.md 4.3).

The model holds the consumers' state in arrays (:class:`agents.consumer.ConsumerState`), the
social graph in CSR form, the platforms' parameters and the brand. ``step()`` is one day:

1. the brand acts (posts, impressions bought, influencer posts, sends);
2. sessions: who opens which platform (kernel pass A, which also sizes each ad line's audience);
3. delivery and response, word of mouth, retention and decay (kernel pass B);
4. the day's metrics row, collected by Mesa's DataCollector.
"""

from __future__ import annotations

import mesa
import numpy as np

from agents.brand import AdPlan, Brand, InfluencerPlan, OrganicPlan, OwnedPlan
from agents.consumer import Consumer, Traits, new_state
from agents.layout import in_records
from agents.network import GraphFileError, SocialGraph, generate, read_graph
from agents.population import build_population
from agents.states import Source
from platforms.content import Hook, Purpose
from platforms.registry import PlatformParams, resolve
from simulation import kernels as K
from simulation.errors import Problem, ScenarioError
from simulation.journeys import Journal
from simulation.library import PostLibrary
from simulation.metrics import STAGE_COLUMNS, TIMESERIES_COLUMNS, DailyCollector, platform_day_row
from simulation.scenario import Scenario
from simulation.streams import day_key, run_key
from simulation.structs import set_day, set_friends, world

MAX_CHUNKS = 256  # fixed work units of the kernels; independent of the thread count
#: Share of the audience the last screened day must have passed over for the next day to be
#: screened too (ODD 3.3): screening costs the draws twice for the consumers shown something.
SCREEN_WORTH = 0.2
#: Days that are multiples of this are screened anyway: the audience changes, so try again.
SCREEN_RETRY_DAYS = 7


def build_graph(scenario: Scenario, seed: int | np.random.SeedSequence) -> SocialGraph:
    """The scenario's social graph, generated or read from its file."""
    net = scenario.audience.network
    if net.file is not None:
        try:
            graph = read_graph(net.file, net.format)
        except GraphFileError as exc:
            raise ScenarioError(net.file, [Problem("audience.network.file", str(exc))]) from None
        size = scenario.audience.size
        if size is not None and size != graph.n:
            raise ScenarioError(scenario.name, [Problem(
                "audience.size", f"does not match the {graph.n:,} nodes of the graph file",
                value=size, suggestion="remove audience.size: the file sets it")])
        return graph
    child = np.random.SeedSequence(seed) if isinstance(seed, int) else seed
    graph_seed = int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return generate(net.model or "powerlaw_cluster", scenario.audience.size, net.mean_degree,
                    graph_seed, triangle_prob=net.triangle_prob, rewire_prob=net.rewire_prob,
                    communities=net.communities, mixing=net.mixing)


class FunnelModel(mesa.Model):
    """An audience moving through a brand's social-media funnel.

    Args:
        scenario: a validated :class:`~simulation.scenario.Scenario`.
        seed: the run's seed (default: the scenario's). Every random number of the run derives
            from it: the graph, the population, and each day's decisions.
        graph: a prebuilt graph to use instead of building the scenario's (for experiments that
            reuse one graph across runs).

    Attributes:
        state: the consumers' state arrays; ``population``: their traits; ``graph``: CSR graph.
        platform_names: platforms in kernel order; ``day``: days simulated so far.
        datacollector: Mesa DataCollector with one row per day (``TIMESERIES_COLUMNS``).
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, *,
                 graph: SocialGraph | None = None):
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.spec = scenario
        self.seed = seed
        graph_seq, population_seq, influencer_seq = np.random.SeedSequence(seed).spawn(3)
        self.key = run_key(seed)
        self.platform_names = scenario.platforms_used()
        overrides = scenario.platform_overrides()
        self.platform_params: list[PlatformParams] = [
            resolve(name, overrides.get(name)) for name in self.platform_names]
        self.graph = graph if graph is not None else build_graph(scenario, graph_seq)
        n = self.graph.n
        self.population = build_population(n, scenario.audience.segments, self.platform_names,
                                           scenario.behavior.trait_sd, population_seq)
        self._lay_out(new_state(n, len(self.platform_names), self.population.baseline_trust))
        self._compile_parameters()
        self._cost_per_send = np.array([pp.cost_per_send for pp in self.platform_params])
        self.reach_total = 0  # consumers shown brand content so far
        self.engaged_total = 0  # consumers who engaged with the brand so far
        self._compile_strategy(influencer_seq)
        self.library = PostLibrary(self.platform_params)
        self.n_chunks = max(1, min(MAX_CHUNKS, n // 256))
        self.journal = Journal(n, self.n_chunks)
        #: How friends' posts reach the exposure pass: "auto" (push or pull, whichever is
        #: less work today), "push" or "pull". Outcomes are the same (a test checks).
        self.friends_mode = "auto"
        #: Whether quiet days visit only the consumers something can happen to (the watched and
        #: those shown a friend's post), and other days pass over the unwatched consumers shown
        #: nothing (screened); False visits everyone every day. Outcomes are the same (a test
        #: checks).
        self.skip_quiet = True
        self.visited = 0
        self._world = None  # the kernels' view, built on the first day (world_for_day)
        # The graph as friends' posts are pushed along it (kernels.push_views: an index of the
        # graph's, built with it, as the CSR is; pushed posts read one array, not two).
        g = self.graph
        most = int(g.degree().max()) if not g.complete and g.n else 0
        if most >= K.MAX_FRIENDS:
            raise ScenarioError(self.spec.name, [Problem(
                "audience.network", "has a consumer with more friends than the engine's views "
                "hold", value=most,
                suggestion=f"use a graph whose consumers have fewer than {K.MAX_FRIENDS:,} "
                           "friends")])
        self._push_views = (np.zeros(0, np.int64) if g.complete else
                            K.push_views(g.indptr, g.indices, g.mirror_positions()))
        self._init_worklists()
        self.day = 0
        self.today: dict = {}
        self.platform_days: list[np.ndarray] = []
        self.datacollector = DailyCollector()
        self.consumers: list[Consumer] = []
        if scenario.materialize_agents:
            self.consumers = [Consumer(self, i) for i in range(n)]

    # -- set-up --------------------------------------------------------------------------------

    def _compile_parameters(self) -> None:
        sc, beh = self.spec, self.spec.behavior
        self.plat = np.zeros((len(self.platform_params), K.N_PCOLS))
        for p, pp in enumerate(self.platform_params):
            self.plat[p, [K.P_STOP, K.P_INTEREST, K.P_TRUST, K.P_CONV, K.P_CLICK, K.P_SHARE,
                          K.P_FOLLOW, K.P_MECH, K.P_SHOP, K.P_PREC]] = [
                pp.stop_rate, pp.interest_rate, pp.trust_gain, pp.conversion_rate, pp.click_rate,
                pp.share_rate, pp.follow_rate, int(pp.mechanic), float(pp.shoppable),
                pp.targeting_precision]
            self.plat[p, [K.P_PROMO_PENALTY, K.P_INTENT_LIFT, K.P_PRO_FOCUS]] = [
                pp.promotion_penalty, pp.intent_lift, pp.professional_focus]
        b = np.zeros(K.N_BEH)
        repurchase = sc.product.repurchase_days
        reward = sc.strategy.referral.reward if sc.strategy.referral else 0.0
        values = {
            K.B_HOOK_MISS: beh.hook_miss, K.B_TRUST_THRESHOLD: beh.trust_threshold,
            K.B_TRUST_DECAY: 1.0 - 0.5 ** (1.0 / beh.trust_half_life_days),
            K.B_FATIGUE_PER_AD: beh.fatigue_per_ad, K.B_FATIGUE_WEIGHT: beh.fatigue_weight,
            K.B_FATIGUE_LIMIT: beh.fatigue_limit,
            K.B_FATIGUE_KEEP: 0.5 ** (1.0 / beh.fatigue_half_life_days),
            K.B_ANNOY_LOSS: beh.annoyance_trust_loss, K.B_EARLY_LOSS: beh.early_sell_trust_loss,
            K.B_EARLY_FATIGUE: beh.early_sell_fatigue,
            K.B_FORGET: 1.0 - 0.5 ** (1.0 / beh.memory_half_life_days),
            K.B_MAX_FEED: beh.max_feed_exposures, K.B_PEER_VIEW: beh.peer_view_prob,
            K.B_INFL_REACH: beh.influencer_reach, K.B_REVIEW: beh.review_rate,
            K.B_REFERRAL: beh.referral_rate, K.B_ADVOCATE_TRUST: beh.advocate_trust,
            K.B_OWNED_BOOST: beh.owned_repurchase_boost, K.B_SHOP_LIFT: beh.shoppable_lift,
            K.B_PRICE_FRICTION: sc.product.price / beh.price_reference,
            K.B_REPURCHASE: 1.0 - np.exp(-1.0 / repurchase) if repurchase else 0.0,
            K.B_ENGAGE_ATT: beh.purpose_engagement.attention,
            K.B_ENGAGE_TRUST: beh.purpose_engagement.trust,
            K.B_ENGAGE_ACT: beh.purpose_engagement.action,
            K.B_PRICE: sc.product.price, K.B_REWARD: reward,
            K.B_REFERRAL_ELASTICITY: beh.referral_reward_elasticity,
            K.B_CLICK_ATT: beh.purpose_click.attention, K.B_CLICK_TRUST: beh.purpose_click.trust,
            K.B_CLICK_ACT: beh.purpose_click.action, K.B_SKEPTICISM_WEIGHT: beh.skepticism_weight,
            K.B_TALK: beh.customer_talk_rate, K.B_RESHARE_DAYS: beh.reshare_after_days,
        }
        for k, v in values.items():
            b[k] = v
        self.beh = b
        c = beh.credibility
        self.public = K.public_mask(self.plat)  # platforms where reviews are posted
        self.cred = np.array([c.organic, c.paid, c.retargeting, c.influencer, c.peer, c.referral,
                              c.owned])
        assert len(self.cred) == len(Source)
        self._creatives: list[list[float]] = []

    def _creative(self, platform: int, fmt: str, hook: str | None, purpose: str,
                  quality: float) -> int:
        """Register a creative; returns its row in the creative table."""
        pp = self.platform_params[platform]
        trust_lift = self.spec.behavior.format_trust_lift.get(fmt, 1.0)
        hook_code = -1 if hook is None else int(Hook[hook.upper()])
        self._creatives.append([platform, pp.format_lift(fmt), trust_lift, hook_code,
                                int(Purpose[purpose.upper()]), quality])
        return len(self._creatives) - 1

    def _compile_strategy(self, influencer_seq: np.random.SeedSequence) -> None:
        s = self.spec.strategy
        idx = {name: p for p, name in enumerate(self.platform_names)}
        organic = [OrganicPlan(idx[o.platform],
                               self._creative(idx[o.platform], o.format, o.hook, o.purpose,
                                              o.quality), o.posts_per_week, o.cost_per_post)
                   for o in s.organic]
        seg_bits = {name: k for k, name in enumerate(self.population.segment_names)}
        ads, ad_i, ad_f = [], [], []
        for line in s.paid:
            p = idx[line.platform]
            c = self._creative(p, line.format, line.hook, line.purpose, line.quality)
            names = line.targeting.segments or list(seg_bits)
            mask = sum(1 << seg_bits[name] for name in names)
            ads.append(AdPlan(p, c, line.daily_budget, self.platform_params[p].cpm))
            ad_i.append([p, c, K.S_PAID, line.frequency_cap, 0, 0, mask,
                         int(line.targeting.in_market_only), int(line.targeting.professionals_only),
                         ["reach", "engagement", "conversions"].index(line.objective)])
            ad_f.append([0.0, self.platform_params[p].targeting_precision])
        for line in s.retargeting:
            p = idx[line.platform]
            c = self._creative(p, line.format, line.hook, line.creative, line.quality)
            ads.append(AdPlan(p, c, line.daily_budget, self.platform_params[p].cpm))
            ad_i.append([p, c, K.S_RETARGETING, line.frequency_cap,
                         ["aware", "engaged", "customers"].index(line.pool), line.window_days,
                         0, 0, 0, 0])
            ad_f.append([0.0, self.platform_params[p].targeting_precision])
        self.ad_i = np.array(ad_i, dtype=np.int64).reshape(-1, K.N_AI)
        self.ad_f = np.array(ad_f, dtype=np.float64).reshape(-1, 2)
        owned, owned_i, owned_f = [], [], []
        for line in s.owned:
            p = idx[line.platform]
            c = self._creative(p, line.format, line.hook, line.purpose, line.quality)
            owned.append(OwnedPlan(p, c, line.sends_per_week,
                                   self.platform_params[p].cost_per_send))
            owned_i.append([p, c, 0])
            owned_f.append([line.capture_rate, line.unsubscribe_rate])
        self.owned_i = np.array(owned_i, dtype=np.int64).reshape(-1, 3)
        self.owned_f = np.array(owned_f, dtype=np.float64).reshape(-1, 2)
        influencers = None
        self.infl_platform, self.infl_creative, self.n_influencers = 0, 0, 0
        inf = s.influencers
        if inf is not None and (inf.count > 0 or inf.ids):
            p = idx[inf.platform]
            self.infl_platform = p
            self.infl_creative = self._creative(p, inf.format, inf.hook, inf.purpose, inf.quality)
            chosen = (self._explicit_influencers(inf.ids) if inf.ids else
                      self._select_influencers(inf.count, inf.selection, influencer_seq))
            self.state.influencer[chosen] = 1
            # Seeded influencers were briefed by the brand: they start engaged with it.
            self.state.stage[chosen] = np.maximum(self.state.stage[chosen], 2)
            self.state.last_engaged_day[chosen] = 0
            self.state.last_share_day[chosen] = 0  # their posts are their shares
            self.engaged_total += int(chosen.shape[0])
            self.n_influencers = int(chosen.shape[0])
            influencers = InfluencerPlan(p, self.infl_creative, self.n_influencers,
                                         inf.posts_per_week, inf.fee, inf.campaign_days)
        # Friends' content: a share (attention), a review (trust), a referral (action) per platform.
        q = self.spec.behavior.peer_quality
        self.peer_creative = np.array(
            [[self._creative(p, "image", None, purpose, q) for purpose in ("attention", "trust",
                                                                            "action")]
             for p in range(len(self.platform_names))], dtype=np.int64).reshape(-1, 3)
        self.cre = np.array(self._creatives, dtype=np.float64).reshape(-1, K.N_CCOLS)
        self.brand = Brand(self, organic, ads, influencers, owned)

    def _explicit_influencers(self, ids: list[int]) -> np.ndarray:
        """The consumers named by ``strategy.influencers.ids`` (checked against the graph)."""
        n = self.graph.n
        problems = [Problem(f"strategy.influencers.ids.{k}", f"is not a consumer of this "
                            f"{n:,}-consumer audience (ids are 0 to {n - 1:,})", value=v,
                            suggestion="use ids of the scenario's own graph")
                    for k, v in enumerate(ids) if v >= n]
        seen: set[int] = set()
        for k, v in enumerate(ids):
            if v in seen:
                problems.append(Problem(f"strategy.influencers.ids.{k}", "is listed twice",
                                        value=v, suggestion="list each consumer once"))
            seen.add(v)
        if problems:
            raise ScenarioError(self.spec.name, problems)
        return np.asarray(ids, dtype=np.int64)

    def _select_influencers(self, count: int, selection: str,
                            seq: np.random.SeedSequence) -> np.ndarray:
        n = self.graph.n
        count = min(count, n)
        if selection == "random":
            return np.random.default_rng(seq).choice(n, size=count, replace=False)
        score = self.graph.effective_size() if selection == "bridge" else self.graph.degree()
        return np.argsort(-score, kind="stable")[:count]

    def _init_worklists(self) -> None:
        """Buffers of the daily worklists (see ``kernels.quiet_after``) and the running tallies."""
        n = self.graph.n
        size = (n + self.n_chunks - 1) // self.n_chunks
        self._chunk_size = size
        self._watch_in, self._watch_out = np.zeros(n, np.int64), np.zeros(n, np.int64)
        self._watch_in_n = np.zeros(self.n_chunks, np.int64)
        self._watch_out_n = np.zeros(self.n_chunks, np.int64)
        self._poster_buf, self._posters_n = np.zeros(n, np.int64), np.zeros(self.n_chunks, np.int64)
        self._posters = np.zeros(0, np.int64)  # who shared yesterday
        self.shared_any = np.zeros(n, np.uint32)  # platform bits of what each shared yesterday
        # ... and each kind's bits in one word (kernels.pack_kinds), for up to 21 platforms
        self._packed = len(self.platform_names) <= K.PACK_BITS
        self.shared_kinds = np.zeros(n if self._packed else 0, np.uint64)
        self._influencer_ids = np.flatnonzero(self.state.influencer).astype(np.int64)
        self._views_buf = np.empty(0, dtype=np.int64)  # friends' posts pushed today (kernels)
        # No friends' posts (the world's fields on days and passes without them).
        self._no_friends, self._no_views = np.zeros(0, dtype=np.uint32), np.zeros(0, np.int64)
        # Sessions are certain when every activity is 0 or >= 1 (also after the professional
        # focus): then they are drawn once and kept.
        a = np.asarray(self.population.activity, dtype=np.float64)
        fixed = np.concatenate([a, a * (1.0 - self.plat[:, K.P_PRO_FOCUS])[None, :]])
        self._sessions_fixed = bool(np.all((fixed <= 0.0) | (fixed >= 1.0)))
        self._sessions_drawn = False
        self._all_active = np.uint32(0)  # platforms every consumer opened today (see step)
        if n >= 2 ** 27:  # the fixed-point trust total (kernels.TRUST_UNIT) would overflow
            raise ScenarioError(self.spec.name, [Problem(
                "audience.size", "is more consumers than the engine's tallies hold", value=n,
                suggestion=f"use fewer than {2 ** 27:,} consumers")])
        self.state_changed()

    def __getstate__(self) -> dict:
        # The kernels' world is compiled code's (not copied): a copy builds its own.
        state = self.__dict__.copy()
        state["_world"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lay_out(self.state)  # (a copy's arrays were copied one by one)

    def _lay_out(self, state) -> None:
        """Take ``state`` and the population's traits into one record per consumer: what a
        visit reads is together in memory (agents.layout; the arrays are views)."""
        self.state, self.population, self._records = in_records(state, self.population)
        self.traits = Traits(**{f: getattr(self.population, f) for f in Traits._fields})

    def state_changed(self) -> None:
        """Call after writing the state arrays between steps (the Consumer agents' setters do):
        the next day recounts the tallies, re-reads who posted and who is an influencer, and
        rebuilds the watch list (ODD 3.3)."""
        self._recount = True
        # Share of consumers the last screened day passed over; a changed (or new) audience:
        # screen the next day again.
        self._screened_out = 1.0

    def _count_tallies(self) -> bool:
        """Recount from the state arrays (:func:`kernels.recount`: who posted and what, the
        stage counts, the trust total, the watch list); returns whether the day must visit
        everyone (shares written for today, which only a visit finds)."""
        st = self.state
        self._stage_total = np.zeros(len(STAGE_COLUMNS), dtype=np.int64)
        posters, trust_fixed, shared_today = K.recount(
            st.stage, st.trust, self.traits.baseline_trust, st.fatigue, st.shared_prev,
            st.shared_now, self.beh, self._chunk_size, self._watch_in, self._watch_in_n,
            self.shared_any, self.shared_kinds, self._packed, self._stage_total)
        self._posters, self._trust_fixed = posters, int(trust_fixed)
        self._push_work = K.poster_work(self.graph.indptr, st.shared_prev, posters)
        # Who is an influencer is state too (friends' posts pushed from their ids).
        self._influencer_ids = np.flatnonzero(st.influencer).astype(np.int64)
        indptr = self.graph.indptr  # (their friend-list entries: one view each)
        self._influencer_work = int((indptr[self._influencer_ids + 1]
                                     - indptr[self._influencer_ids]).sum())
        if self._sessions_drawn:  # sessions kept: as written
            self._all_active = self._opened_by_everyone()
        self._recount = False
        return bool(shared_today)

    # -- the day -------------------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one day."""
        day = self.day
        actions = self.brand.act(day)
        self.library.publish(actions.posts, day)
        dkey = day_key(self.key, day)
        if self.owned_i.shape[0]:
            self.owned_i[:, 2] = actions.sends.astype(np.int64)
        lib = self.library.today(day)
        influencer_on = bool(actions.influencer_posts > 0)
        dense = self._count_tallies() if self._recount else False
        buying = bool(np.any(actions.impressions > 0)) if self.ad_i.shape[0] else False
        w = self.world_for_day(influencer_on, lib)
        # Pass A: sessions, and each ad line's eligible audience; then the lines' delivery rates.
        # Certain sessions are drawn once; eligibility matters only on days with impressions.
        if buying or not (self._sessions_fixed and self._sessions_drawn):
            K.sessions_and_eligibility(dkey, day, self.n_chunks, w)
            self._sessions_drawn = True
            self._all_active = self._opened_by_everyone()
        eligible = self._sums.sum(axis=0)
        self.ad_f[:, K.AF_LAMBDA] = np.where(eligible > 0,
                                             actions.impressions / np.maximum(eligible, 1e-300), 0)
        # Pass B: exposures and responses, word of mouth, retention and decay. A quiet day (no
        # organic posts, ads or sends; friends' posts pushed) visits only the consumers watched
        # since yesterday and those shown a friend's post; on other days a consumer who is
        # neither watched nor shown anything is passed over after its draws (screened).
        friends = self._friends_today(dkey, influencer_on)
        sending = bool(self.owned_i[:, 2].any()) if self.owned_i.shape[0] else False
        worklists = self.skip_quiet and not dense and not self.graph.complete
        sparse = (worklists and not buying and not sending and lib.creative.shape[0] == 0
                  and friends[1])
        # Screening pays when it passes over many: it did on the last screened day, or it is
        # tried again (a week on), as the audience changes.
        screen = worklists and not sparse and (self._screened_out >= SCREEN_WORTH
                                               or day % SCREEN_RETRY_DAYS == 0)
        set_friends(w, *friends, sparse, screen)  # the same world: it keeps pass A's tallies
        K.exposures_and_responses(dkey, day, self.n_chunks, w)
        t = self._tallies
        self.journal.collect(day, t["log"], t["log_n"])
        self._advance_worklists()
        ev, delivered, posts, stage_change, trust_change, newly, visits = K.day_totals(
            t["ev"], t["ev_line"], t["ev_post"], t["stage_counts"], t["trust_change"],
            t["new_reach"], t["visits"])
        self.visited = int(visits)  # consumers pass B visited today (not passed over as quiet)
        if screen:
            self._screened_out = 1.0 - self.visited / self.state.stage.shape[0]
        self.library.record(lib.post, posts[:, 0], posts[:, 1])
        self._stage_total += stage_change
        self._trust_fixed += int(trust_change)
        self._record_day(ev, delivered, actions, self._stage_total.copy(),
                         self._trust_fixed * K.TRUST_UNIT, newly)
        self.day += 1
        self.datacollector.collect(self)

    def _opened_by_everyone(self) -> np.uint32:
        """The platforms every consumer opened today, kept while the sessions are (certain
        sessions are drawn once; else 0): friends' posts on them need no check of who opened
        what (kernels.friends_views)."""
        if not self._sessions_fixed:
            return np.uint32(0)
        return np.uint32(np.bitwise_and.reduce(self.state.active))

    def _advance_worklists(self) -> None:
        """Tomorrow's watch list and feed: pass B wrote who to watch and who posted today."""
        self._watch_in, self._watch_out = self._watch_out, self._watch_in
        self._watch_in_n, self._watch_out_n = self._watch_out_n, self._watch_in_n
        posters = K.gather(self._poster_buf, self._posters_n, self._chunk_size)
        st = self.state
        # Today's shares become tomorrow's feed (and what pushing it will take).
        self._push_work = K.advance_shares(self._posters, posters, st.shared_prev, st.shared_now,
                                           self.shared_any, self.shared_kinds, self._packed,
                                           self.graph.indptr)
        self._posters = posters

    def _friends_today(self, dkey, influencer_on: bool) -> tuple:
        """Friends' posts to show today, for the exposure pass (after the sessions are drawn):
        ``(friend_any, push, peer_views)``; the views sorted (by consumer, then key).

        Pushed from the posters when their friend lists are shorter than the audience (a few
        sharers: each post's views are drawn along its edges, :func:`kernels.friends_views`);
        else pulled, each consumer with something to see walking its own friend list
        (:func:`kernels.friends_mark` marks who). Both draw the same numbers in the same order:
        the choice changes the time taken, never an outcome.
        """
        st, g = self.state, self.graph
        if g.complete:
            return self._no_friends, False, self._no_views
        # Friend-list entries of everyone with something to show, and the most views they
        # can draw (kernels.poster_work; influencers posting show one post per entry).
        work, bound = self._push_work
        if influencer_on:
            work, bound = work + self._influencer_work, bound + self._influencer_work
        if self.friends_mode == "push" or (self.friends_mode == "auto" and work < g.n):
            if bound > self._views_buf.shape[0]:  # one buffer, grown by half again as needed
                self._views_buf = np.empty(max(bound, self._views_buf.shape[0] * 3 // 2),
                                           dtype=np.int64)
            count = K.friends_views(dkey, g.indptr, self._push_views, st.active,
                                    self._all_active, st.shared_prev, self._posters,
                                    self._influencer_ids,
                                    influencer_on, self.infl_platform, self.beh[K.B_PEER_VIEW],
                                    self.beh[K.B_INFL_REACH], self._views_buf)
            if count < 0:
                raise RuntimeError(
                    "the consumers' shares (state.shared_prev) were written between days without "
                    "model.state_changed(): call it after writing the state arrays (ODD 3.3)")
            views = self._views_buf[:count]
            views.sort()  # in place (numpy's vectorised sort)
            return self._no_friends, True, views
        friend_any = np.zeros(g.n, dtype=np.uint32)
        K.friends_mark(g.indptr, g.indices, self._posters, self.shared_any, self._influencer_ids,
                       influencer_on, self.infl_platform, friend_any)
        return friend_any, False, self._no_views

    def world_for_day(self, influencer_on: bool, lib):
        """The kernels' view of today (:class:`simulation.structs.BorrowedWorld`): the state,
        traits, parameters and graph, today's post library ``lib``, the worklists and the day's
        tallies (``self._tallies``, ``self._sums``, cleared), with no friends' posts and not
        quiet: the sessions pass and probes use it as it is; the exposure pass after
        :func:`simulation.structs.set_friends` gives it the day's friends' posts.

        One world per model, built on the first day (and after :meth:`trace`, which changes the
        journal's buffers); each day :func:`simulation.structs.set_day` changes what differs.
        """
        if self._world is None or self._world_journal is not self.journal:
            self._world, self._world_journal = self._build_world(lib), self.journal
        self._sharers_today = self._sharers() if self.graph.complete else self._no_sharers
        self._tallies["ev_post"] = np.zeros((self.n_chunks, lib.creative.shape[0], 2))
        set_day(self._world, lib.offsets, lib.cumulative, lib.creative, self._tallies["ev_post"],
                self._sharers_today, influencer_on, self._watch_in, self._watch_in_n,
                self._watch_out, self._watch_out_n, self._no_friends, self._no_views)
        return self._world

    def _build_world(self, lib):
        """The model's world (see :meth:`world_for_day`), with its tally arrays."""
        n_lines, n_plat, chunks = self.ad_i.shape[0], len(self.platform_names), self.n_chunks
        log, log_n = self.journal.buffers()
        self._sums = np.zeros((chunks, n_lines))
        self._tallies = {
            "ev": np.zeros((chunks, K.N_EVENTS, n_plat)), "ev_line": np.zeros((chunks, n_lines)),
            "ev_post": np.zeros((chunks, lib.creative.shape[0], 2)),
            "stage_counts": np.zeros((chunks, len(STAGE_COLUMNS)), dtype=np.int64),
            "trust_change": np.zeros(chunks, dtype=np.int64),  # in units of K.TRUST_UNIT
            "new_reach": np.zeros((chunks, 2), dtype=np.int64),  # newly reached, engaged
            "visits": np.zeros(chunks, dtype=np.int64),  # consumers visited by pass B
            "log": log, "log_n": log_n,
        }
        self._no_sharers = np.zeros((n_plat, 3))
        g = self.graph
        return world(
            self.state, self.traits, indptr=g.indptr, indices=g.indices,
            shared_any=self.shared_any, shared_kinds=self.shared_kinds, packed=self._packed,
            friend_any=self._no_friends, peer_push=False, peer_views=self._no_views,
            complete=bool(g.complete), mean_degree=float(g.mean_degree),
            sharers=self._no_sharers, influencer_on=False,
            infl_platform=int(self.infl_platform), infl_creative=int(self.infl_creative),
            n_influencers=int(self.n_influencers), plat=self.plat, cre=self.cre, beh=self.beh,
            cred=self.cred, public=self.public, peer_creative=self.peer_creative,
            lib_off=lib.offsets, lib_cum=lib.cumulative, lib_creative=lib.creative, ad_i=self.ad_i,
            ad_f=self.ad_f, owned_i=self.owned_i, owned_f=self.owned_f, sums=self._sums,
            sparse=False, screen=False, watch_in=self._watch_in, watch_in_n=self._watch_in_n,
            watch_out=self._watch_out, watch_out_n=self._watch_out_n, posters=self._poster_buf,
            posters_n=self._posters_n, traced=self.journal.traced, **self._tallies)

    def _sharers(self) -> np.ndarray:
        """Consumers who shared yesterday, per platform and kind (for a well-mixed population)."""
        n_plat = len(self.platform_names)
        out = np.zeros((n_plat, 3))
        for kind in range(3):
            col = self.state.shared_prev[:, kind]
            for p in range(n_plat):
                out[p, kind] = np.count_nonzero(col & np.uint32(1 << p))
        return out

    def _record_day(self, ev, delivered, actions, stages, trust_total, newly) -> None:
        spend = np.zeros(len(self.platform_names))
        for line, plan in enumerate(self.brand.ads):
            spend[plan.platform] += delivered[line] * plan.cpm / 1000.0
        for p, cost in actions.fixed_costs.items():
            spend[p] += cost
        spend += ev[K.E_SENDS] * self._cost_per_send
        spend += ev[K.E_REFERRAL_SPEND]
        self.platform_days.append(platform_day_row(ev, spend))
        self.reach_total += int(newly[0])
        self.engaged_total += int(newly[1])
        n = self.state.stage.shape[0]
        tot = ev.sum(axis=1).tolist()  # each event over the platforms (one reduction, not ten)
        counts = stages.tolist()
        row = {"day": self.day + 1, **dict(zip(STAGE_COLUMNS, counts, strict=True)),
               "impressions": int(tot[K.E_IMPRESSIONS]), "reach": self.reach_total,
               "stops": int(tot[K.E_STOPS]), "engagements": int(tot[K.E_ENGAGEMENTS]),
               "clicks": int(tot[K.E_CLICKS]), "follows": int(tot[K.E_FOLLOWS]),
               "subscribers": int(tot[K.E_SUBSCRIBES]), "shares": int(tot[K.E_SHARES]),
               "new_customers": int(tot[K.E_NEW_CUSTOMERS]),
               "adopters": sum(counts[4:]), "ever_engaged": self.engaged_total,
               "repeat_purchases": int(tot[K.E_REPEAT]),
               "revenue": tot[K.E_REVENUE], "spend": float(spend.sum()),
               "mean_trust": trust_total / n if n else 0.0}
        assert list(row) == TIMESERIES_COLUMNS
        self.today = row

    def trace(self, consumers) -> None:
        """Record every exposure of these consumers from now on (see :meth:`journeys`)."""
        self.journal = Journal(self.graph.n, self.n_chunks, consumers)

    def consumer_summary(self, i: int) -> str:
        """One line about consumer i: segment, platforms, friends, stage, purchases, trust."""
        st, pop = self.state, self.population
        uses = [name for p, name in enumerate(self.platform_names) if pop.uses[i] >> p & 1]
        stage = self.spec.stage_label(STAGE_COLUMNS[int(st.stage[i])])
        return (f"segment {pop.segment_names[pop.segment[i]]}, uses {', '.join(uses) or 'nothing'}, "
                f"{int(self.graph.degree()[i])} friends; now {stage}, {int(st.purchases[i])} "
                f"purchases, trust {st.trust[i]:.3f}")

    def journeys(self):
        """The traced consumers' journeys so far: one row per exposure or day-end event
        (:data:`simulation.journeys.JOURNEY_COLUMNS`)."""
        return self.journal.table(self.platform_names, self.spec.stage_labels)

    def run(self, days: int | None = None) -> FunnelModel:
        """Simulate ``days`` days (default: the scenario's); returns the model."""
        for _ in range(self.spec.days if days is None else days):
            self.step()
        return self
