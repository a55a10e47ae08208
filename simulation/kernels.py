"""The daily kernels (numba): sessions and ad eligibility, then exposures and responses.

State is used as a structure of arrays (:class:`agents.consumer.ConsumerState`), whose
per-consumer fields are views into one 128-byte record per consumer (:mod:`agents.layout`),
handed to the kernels as a StructRef view of the same arrays (:mod:`simulation.structs`); the
kernels loop over consumers in compiled code, in fixed chunks processed in parallel. Every random
draw comes from the counter-based streams (:mod:`simulation.streams`) keyed by (day, consumer,
decision), and every tally goes to its chunk's row, summed in chunk order afterwards: outputs do
not depend on the number of threads. A consumer's update reads its neighbours' *yesterday*
shares only (pushed to it as views drawn before the pass, or pulled from its friend list), so no
two threads write the same entry. On quiet days only the consumers something can happen to are
visited; on screened days the quiet consumers whose draws show them nothing are passed over
(ODD 3.3).

The rules are documented in docs/ODD.md, section "Submodels".
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

from simulation.prefetch import prefetch
from simulation.streams import (
    DECAY,
    DELIVERY,
    EXPOSURE,
    RESPONSE,
    RETENTION,
    SESSION,
    SHARE,
    make_tag,
    subkey,
    uniform,
)

# Platform parameter columns (plat[p, col]).
(P_STOP, P_INTEREST, P_TRUST, P_CONV, P_CLICK, P_SHARE, P_FOLLOW, P_MECH, P_SHOP, P_PREC,
 P_PROMO_PENALTY, P_INTENT_LIFT, P_PRO_FOCUS) = range(13)
N_PCOLS = 13
MECH_SOCIAL, MECH_INTEREST, MECH_SEARCH, MECH_OWNED, MECH_COMMUNITY, MECH_MESSAGING = range(6)

# Creative columns (cre[c, col]).
C_PLATFORM, C_FORMAT_LIFT, C_TRUST_LIFT, C_HOOK, C_PURPOSE, C_QUALITY = range(6)
N_CCOLS = 6
PURPOSE_ATTENTION, PURPOSE_TRUST, PURPOSE_ACTION = 0, 1, 2

# Behaviour scalars (beh[col]).
(B_HOOK_MISS, B_TRUST_THRESHOLD, B_TRUST_DECAY, B_FATIGUE_PER_AD, B_FATIGUE_WEIGHT,
 B_FATIGUE_LIMIT, B_FATIGUE_KEEP, B_ANNOY_LOSS, B_EARLY_LOSS, B_EARLY_FATIGUE, B_FORGET,
 B_MAX_FEED, B_PEER_VIEW, B_INFL_REACH, B_REVIEW, B_REFERRAL, B_ADVOCATE_TRUST, B_OWNED_BOOST,
 B_SHOP_LIFT, B_PRICE_FRICTION, B_REPURCHASE, B_ENGAGE_ATT, B_ENGAGE_TRUST, B_ENGAGE_ACT,
 B_PRICE, B_REWARD, B_REFERRAL_ELASTICITY, B_CLICK_ATT, B_CLICK_TRUST, B_CLICK_ACT,
 B_SKEPTICISM_WEIGHT, B_TALK, B_RESHARE_DAYS) = range(33)
N_BEH = 33

# Bits of the code _expose returns.
R_ENGAGED, R_FIRST_PURCHASE, R_REPEAT_PURCHASE, R_STOPPED, R_CLICKED = 1, 2, 4, 8, 16

# Journal rows of traced consumers (log[ch, row, col]); sources -1 and -2 are day-end events.
(J_DAY, J_CONSUMER, J_PLATFORM, J_SOURCE, J_PURPOSE, J_STAGE_BEFORE, J_STAGE_AFTER, J_RESULT,
 J_TRUST_PPM) = range(9)
N_JCOLS = 9
J_RETENTION, J_DAY_END = -1, -2

# Sources (agents.states.Source).
S_ORGANIC, S_PAID, S_RETARGETING, S_INFLUENCER, S_PEER, S_REFERRAL, S_OWNED = range(7)

# Peer content kinds (columns of the share masks).
K_SHARE, K_REVIEW, K_REFERRAL = 0, 1, 2

# Event tallies (ev[chunk, col, platform]).
(E_IMPRESSIONS, E_REACH, E_STOPS, E_ENGAGEMENTS, E_CLICKS, E_FOLLOWS, E_SUBSCRIBES, E_SHARES,
 E_NEW_CUSTOMERS, E_REPEAT, E_REVENUE, E_REFERRAL_SPEND, E_SENDS, E_UNSUBSCRIBES) = range(14)
N_EVENTS = 14

# Ad line columns: integers (ad_i[l, col]) and floats (ad_f[l, col]).
A_PLATFORM, A_CREATIVE, A_SOURCE, A_CAP, A_POOL, A_WINDOW, A_SEGMENTS, A_IN_MARKET, A_PROF, \
    A_OBJECTIVE = range(10)
N_AI = 10
AF_LAMBDA, AF_PRECISION = range(2)
POOL_AWARE, POOL_ENGAGED, POOL_CUSTOMERS = 0, 1, 2
OBJ_REACH, OBJ_ENGAGEMENT, OBJ_CONVERSIONS = 0, 1, 2

# Sub-draws of one exposure (the low 4 bits of a tag's index).
D_STOP, D_ENGAGE, D_FOLLOW, D_SHARE, D_CLICK, D_BUY, D_SUBSCRIBE = 0, 1, 2, 3, 4, 5, 6


@njit(cache=True, inline="always", error_model="numpy")
def _lowest_bit(mask):
    """Index of the lowest set bit of a non-zero mask (one instruction: count trailing zeros)."""
    return np.int64(trailing_zeros(mask))


@njit(cache=True, inline="always", error_model="numpy")
def chance(key, tag, prob):
    """Whether decision ``tag`` happens with probability ``prob`` (``uniform(key, tag) < prob``).

    A probability of 0 or 1 takes no draw: the outcome is the same (u is in [0, 1)) and the hash
    is saved; the reductions to textbook models set most rates to 0 or 1.
    """
    if prob >= 1.0:
        return True
    if prob <= 0.0:
        return False
    return uniform(key, tag) < prob


@njit(cache=True, inline="always", error_model="numpy")
def _popcount(mask):
    c = 0
    while mask != 0:
        mask &= mask - np.uint32(1)
        c += 1
    return c


@njit(cache=True, error_model="numpy")
def poisson_from_uniform(lam: float, u: float) -> int:
    """Inverse-CDF Poisson draw from one uniform (exact for small lam; normal above 40)."""
    if lam <= 0.0:
        return 0
    if lam > 40.0:
        # Normal approximation via the inverse error function would need scipy; use
        # a Wilson-Hilferty-free rational approximation of the normal quantile.
        t = np.sqrt(-2.0 * np.log(min(u, 1.0 - u) + 1e-300))
        z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (
            1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
        if u < 0.5:
            z = -z
        return max(0, int(lam + np.sqrt(lam) * z + 0.5))
    p = np.exp(-lam)
    s = p
    k = 0
    while u > s and k < 200:
        k += 1
        p *= lam / k
        s += p
    return k


@njit(cache=True, inline="always", error_model="numpy")
def poisson_with_p0(lam: float, p0: float, u: float, cap: int) -> int:
    """``min(poisson_from_uniform(lam, u), cap)`` given ``p0 = exp(-lam)`` computed once for many
    draws.

    Most daily draws are 0 (u <= P(0)); the precomputed P(0) answers them without an exp: the
    inverse CDF returns 0 exactly when u <= exp(-lam). Above P(0), a cap of 1 (a frequency cap,
    say) gives 1 without summing the CDF. Both are the inverse CDF's answers (for lam > 40 the
    capped answer is the exact one where the normal approximation would say 0, at u < 1e-14).
    """
    if lam <= 0.0 or cap <= 0 or u <= p0:
        return 0
    if cap == 1:
        return 1
    return min(poisson_from_uniform(lam, u), cap)


@njit(cache=True, error_model="numpy")
def binomial_from_uniform(trials: int, prob: float, u: float) -> int:
    """Inverse-CDF binomial draw from one uniform (successes in ``trials`` tries)."""
    if trials <= 0 or prob <= 0.0:
        return 0
    if prob >= 1.0:
        return trials
    q = 1.0 - prob
    pk = q ** trials
    if pk < 1e-200 or trials * prob * q > 400.0:
        # Far from zero (or P(0) underflows): the normal approximation, clipped to [0, trials].
        t = np.sqrt(-2.0 * np.log(min(u, 1.0 - u) + 1e-300))
        z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (
            1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
        if u < 0.5:
            z = -z
        k = np.int64(trials * prob + np.sqrt(trials * prob * q) * z + 0.5)
        return min(max(k, 0), trials)
    s = pk
    k = 0
    while u > s and k < trials:
        pk *= (trials - k) / (k + 1.0) * prob / q
        k += 1
        s += pk
    return k


@njit(cache=True, inline="always", error_model="numpy")
def _eligible_weight(day, act, hidden, stage, engaged_day, touch_day, segment, in_market,
                     professional, line, line_precision):
    """Weight of a consumer in an ad line's delivery today (0: not eligible).

    Takes the consumer's and the line's values, not the arrays: a helper called per consumer that
    takes arrays pays reference counting on every call (tens of ns).
    """
    bit = np.uint32(1) << np.uint32(line[A_PLATFORM])
    if (act & bit) == 0 or hidden != 0:
        return 0.0
    if line[A_SOURCE] == S_RETARGETING:
        pool = line[A_POOL]
        if pool == POOL_CUSTOMERS:
            return 1.0 if stage >= 4 else 0.0
        if stage >= 4:
            return 0.0
        if pool == POOL_ENGAGED:
            if stage < 2 or day - engaged_day > line[A_WINDOW]:
                return 0.0
        elif stage < 1 or day - touch_day > line[A_WINDOW]:
            return 0.0
        return 1.0
    if ((line[A_SEGMENTS] >> np.int64(segment)) & np.int64(1)) == 0:
        return 0.0
    if line[A_IN_MARKET] != 0 and in_market == 0 and stage < 1:
        return 0.0
    if line[A_PROF] != 0 and professional == 0:
        return 0.0
    if line[A_OBJECTIVE] == OBJ_CONVERSIONS:
        return 1.0 + 3.0 * line_precision * (1.0 if stage >= 2 or in_market != 0 else 0.0)
    return 1.0


@njit(cache=True, parallel=True, error_model="numpy")
def sessions_and_eligibility(dkey, day, n_chunks, w):
    """Pass A: who opens which platform today, and each ad line's total eligible weight.

    Writes ``w.active`` (bit mask per consumer) and ``w.sums[chunk, line]``.
    """
    n = w.stage.shape[0]
    size = (n + n_chunks - 1) // n_chunks
    for ch in prange(n_chunks):
        # The work is in a serial helper: numba does not write back through a namedtuple's
        # arrays indexed directly inside a prange body.
        _sessions_chunk(ch, ch * size, min(n, (ch + 1) * size), dkey, day, w)


@njit(cache=True, error_model="numpy")
def _sessions_chunk(ch, lo, hi, dkey, day, w):
    plat, ad_i, ad_f, sums = w.plat, w.ad_i, w.ad_f, w.sums
    n_lines = ad_i.shape[0]
    for i in range(lo, hi):
        ck = subkey(dkey, i)
        uses = w.uses[i]
        act = np.uint32(0)
        m = uses
        while m != 0:
            p = _lowest_bit(m)
            m &= m - np.uint32(1)
            # Professional platforms (LinkedIn) are opened mostly by professionals.
            a = w.activity[w.segment[i], p]
            if w.professional[i] == 0:
                a *= 1.0 - plat[p, P_PRO_FOCUS]
            # (a draw is needed only for 0 < a < 1: the same outcome, one hash fewer; the draw's
            # outcome is ORed in without a branch, which the processor could not predict)
            if a >= 1.0:
                act |= np.uint32(1) << np.uint32(p)
            elif a > 0.0:
                act |= np.uint32(uniform(ck, make_tag(SESSION, p, 0, 0)) < a) << np.uint32(p)
        w.active[i] = act
        for l in range(n_lines):
            line = (ad_i[l, 0], ad_i[l, 1], ad_i[l, 2], ad_i[l, 3], ad_i[l, 4], ad_i[l, 5],
                    ad_i[l, 6], ad_i[l, 7], ad_i[l, 8], ad_i[l, 9])
            sums[ch, l] += _eligible_weight(day, act, w.hidden[i], w.stage[i],
                                            w.last_engaged_day[i], w.last_touch_day[i],
                                            w.segment[i], w.in_market[i], w.professional[i],
                                            line, ad_f[l, AF_PRECISION])


@njit(cache=True, error_model="numpy")
def _expose(i, c, src, index, ck, ch, day, w, bought):
    """One exposure of consumer i to creative c from source src (``bought``: whether the
    consumer already bought today: at most one purchase a day).

    Returns a bit code: R_STOPPED, R_ENGAGED, R_CLICKED, R_FIRST_PURCHASE, R_REPEAT_PURCHASE
    (0: scrolled past). Takes the world as one StructRef: every array argument of a compiled call
    costs a reference count update, and this is called for every exposure.
    """
    plat, cre, beh, cred, ev = w.plat, w.cre, w.beh, w.cred, w.ev
    owned_i, owned_f = w.owned_i, w.owned_f
    p = np.int64(cre[c, C_PLATFORM])
    bit = np.uint32(1) << np.uint32(p)
    ev[ch, E_IMPRESSIONS, p] += 1.0
    if (w.reached[i] & bit) == 0:
        w.reached[i] |= bit
        ev[ch, E_REACH, p] += 1.0
    sponsored = src == S_PAID or src == S_RETARGETING
    if sponsored:
        w.fatigue[i] += beh[B_FATIGUE_PER_AD]
        if w.hidden[i] == 0 and w.fatigue[i] > beh[B_FATIGUE_LIMIT]:
            w.hidden[i] = 1
            w.trust[i] = max(0.0, w.trust[i] - beh[B_ANNOY_LOSS])
    hook = np.int64(cre[c, C_HOOK])
    # hook -1 (friends' content) always fits: people share what resonates with their friends.
    if hook < 0 or (w.hooks[i] >> np.uint8(hook)) & np.uint8(1):
        hook_fit = 1.0
    else:
        hook_fit = beh[B_HOOK_MISS]
    p_stop = plat[p, P_STOP] * cre[c, C_FORMAT_LIFT] * hook_fit * cred[src]
    p_stop *= max(0.0, 1.0 - beh[B_FATIGUE_WEIGHT] * w.fatigue[i])
    if sponsored:
        p_stop *= 1.0 - beh[B_SKEPTICISM_WEIGHT] * w.ad_skepticism[i]
    base = index * 16
    if not chance(ck, make_tag(RESPONSE, p, src, base + D_STOP), p_stop):
        return 0
    # Stopped: a touch.
    ev[ch, E_STOPS, p] += 1.0
    result = R_STOPPED
    stage = w.stage[i]
    w.touches[i] += 1
    if stage < 4:
        w.pre_touches[i, p] += 1
    if w.first_platform[i] < 0:
        w.first_platform[i] = p
        w.first_source[i] = src
    w.last_platform[i] = p
    w.last_source[i] = src
    w.last_touch_day[i] = day
    if stage == 0:
        stage = 1
    purpose = np.int64(cre[c, C_PURPOSE])
    quality = cre[c, C_QUALITY]
    engage = plat[p, P_INTEREST] * quality * hook_fit * beh[B_ENGAGE_ATT + purpose]
    if src == S_PEER or src == S_REFERRAL:
        engage *= 0.5 + w.peer_susceptibility[i]
    if chance(ck, make_tag(RESPONSE, p, src, base + D_ENGAGE), engage):
        result |= R_ENGAGED
        ev[ch, E_ENGAGEMENTS, p] += 1.0
        w.last_engaged_day[i] = day
        if stage < 2:
            stage = 2
        mech = np.int64(plat[p, P_MECH])
        if mech != MECH_OWNED and mech != MECH_MESSAGING and (w.follows[i] & bit) == 0:
            if chance(ck, make_tag(RESPONSE, p, src, base + D_FOLLOW), plat[p, P_FOLLOW]):
                w.follows[i] |= bit
                ev[ch, E_FOLLOWS, p] += 1.0
        # A consumer shares again only after reshare_after_days (a cascade shares once).
        if day - w.last_share_day[i] >= beh[B_RESHARE_DAYS] and chance(
                ck, make_tag(RESPONSE, p, src, base + D_SHARE), plat[p, P_SHARE] * quality):
            w.shared_now[i, K_SHARE] |= bit
            w.last_share_day[i] = day
            ev[ch, E_SHARES, p] += 1.0
        for o in range(owned_i.shape[0]):
            ob = np.uint32(1) << np.uint32(owned_i[o, 0])
            if (w.subscribed[i] & ob) == 0:
                if chance(ck, make_tag(RESPONSE, p, src, base + D_SUBSCRIBE + o), owned_f[o, 0]):
                    w.subscribed[i] |= ob
                    ev[ch, E_SUBSCRIBES, owned_i[o, 0]] += 1.0
    if purpose == PURPOSE_TRUST:
        # (a gain above 1 would overshoot; capped, trust stays in [0, 1])
        gain = min(1.0, plat[p, P_TRUST] * cre[c, C_TRUST_LIFT] * cred[src] * quality)
        w.trust[i] += gain * (1.0 - w.trust[i])
    elif purpose == PURPOSE_ACTION and src != S_PEER and src != S_REFERRAL and src != S_OWNED:
        # Communities punish overt promotion by the brand (Reddit) [assumption, after B]; sends
        # to the brand's own opted-in list are expected, not intrusions.
        w.trust[i] = max(0.0, w.trust[i] - plat[p, P_PROMO_PENALTY])
    # Trust that crosses the threshold at this touch can be acted on at this touch.
    if stage == 2 and w.trust[i] >= beh[B_TRUST_THRESHOLD]:
        stage = 3
    if stage >= 3:
        # Trusting consumers take the next step: a click, most of all on sales content [B].
        # Visits from communities and messaging carry more intent (intent_lift).
        lift = plat[p, P_INTENT_LIFT]
        p_click = plat[p, P_CLICK] * beh[B_CLICK_ATT + purpose] * lift
        if chance(ck, make_tag(RESPONSE, p, src, base + D_CLICK), p_click):
            ev[ch, E_CLICKS, p] += 1.0
            result |= R_CLICKED
            if not bought:
                conv = lift * plat[p, P_CONV] * w.trust[i] * np.exp(
                    -beh[B_PRICE_FRICTION] * w.price_sensitivity[i])
                if plat[p, P_SHOP] > 0.0:
                    conv *= beh[B_SHOP_LIFT]
                conv = min(conv, 1.0)
                if chance(ck, make_tag(RESPONSE, p, src, base + D_BUY), conv):
                    price = beh[B_PRICE]
                    w.purchases[i] += 1
                    w.revenue[i] += price
                    ev[ch, E_REVENUE, p] += price
                    if stage == 3:
                        stage = 4
                        w.purchase_platform[i] = p
                        w.purchase_source[i] = src
                        w.first_purchase_day[i] = day
                        ev[ch, E_NEW_CUSTOMERS, p] += 1.0
                        result |= R_FIRST_PURCHASE
                    else:
                        ev[ch, E_REPEAT, p] += 1.0
                        result |= R_REPEAT_PURCHASE
                        if stage == 4 and w.trust[i] >= beh[B_ADVOCATE_TRUST]:
                            stage = 5
                    if src == S_REFERRAL:
                        ev[ch, E_REFERRAL_SPEND, p] += beh[B_REWARD]
    elif purpose == PURPOSE_ACTION and src != S_REFERRAL:
        # Selling before trust backfires a little [C]: "jab, jab, jab, right hook". A friend's
        # referral is not the brand selling, so it carries no penalty.
        w.trust[i] = max(0.0, w.trust[i] - beh[B_EARLY_LOSS])
        w.fatigue[i] += beh[B_EARLY_FATIGUE]
    w.stage[i] = stage
    return result


@njit(cache=True, inline="always", error_model="numpy")
def _journal(ch, row, log, log_n):
    """Append one row to chunk ch's journal (rows past its capacity are counted, not kept)."""
    k = log_n[ch]
    if k < log.shape[1]:
        for col in range(N_JCOLS):
            log[ch, k, col] = row[col]
    log_n[ch] = k + 1


@njit(cache=True, inline="always", error_model="numpy")
def _expose_traced(i, c, src, index, ck, ch, day, w, bought):
    """_expose, plus a journal row when consumer i is traced (one test when nobody is)."""
    traced = w.traced
    if traced.shape[0] == 0 or traced[i] == 0:
        return _expose(i, c, src, index, ck, ch, day, w, bought)
    before = w.stage[i]
    r = _expose(i, c, src, index, ck, ch, day, w, bought)
    row = np.empty(N_JCOLS, dtype=np.int64)
    row[J_DAY], row[J_CONSUMER], row[J_PLATFORM] = day, i, np.int64(w.cre[c, C_PLATFORM])
    row[J_SOURCE], row[J_PURPOSE] = src, np.int64(w.cre[c, C_PURPOSE])
    row[J_STAGE_BEFORE], row[J_STAGE_AFTER], row[J_RESULT] = before, w.stage[i], r
    row[J_TRUST_PPM] = np.int64(w.trust[i] * 1e6 + 0.5)
    _journal(ch, row, w.log, w.log_n)
    return r


@njit(cache=True, inline="always", error_model="numpy")
def _purchases(r, first_buy, bought):
    """(a first purchase today, any purchase today) after an exposure with result code r."""
    return (first_buy or (r & R_FIRST_PURCHASE) != 0,
            bought or (r & (R_FIRST_PURCHASE | R_REPEAT_PURCHASE)) != 0)


@njit(cache=True, error_model="numpy")
def day_totals(ev, ev_line, ev_post, stage_counts, trust_change, new_reach, visits):
    """The day's tallies (one row per chunk) summed over the chunks, in chunk order: events x
    platforms, impressions delivered per ad line, impressions and engagements per library post,
    the stage counts' changes, the trust total's change (units of TRUST_UNIT), (newly reached,
    newly engaged) and the consumers pass B visited. One call instead of seven reductions.

    The order is that of numpy's sum over the first axis, which the totals had before (revenue
    is a sum of prices, not exact in every order), except for a (chunks, 1) array, which numpy
    sums pairwise: only ``ev_line`` can have that shape, and it holds whole numbers, whose sums
    are exact in any order."""
    ev_sum = np.zeros(ev.shape[1:])
    delivered = np.zeros(ev_line.shape[1:])
    posts = np.zeros(ev_post.shape[1:])
    stages = np.zeros(stage_counts.shape[1:], dtype=np.int64)
    newly = np.zeros(new_reach.shape[1:], dtype=np.int64)
    trust, visited = np.int64(0), np.int64(0)
    for ch in range(ev.shape[0]):
        ev_sum += ev[ch]
        delivered += ev_line[ch]
        posts += ev_post[ch]
        stages += stage_counts[ch]
        newly += new_reach[ch]
        trust += trust_change[ch]
        visited += visits[ch]
    return ev_sum, delivered, posts, stages, trust, newly, visited


@njit(cache=True, error_model="numpy")
def gather(buf, counts, size):
    """The entries chunk ch wrote at ``buf[ch * size:ch * size + counts[ch]]``, in chunk order."""
    total = 0
    for ch in range(counts.shape[0]):
        total += counts[ch]
    out = np.empty(total, dtype=np.int64)
    k = 0
    for ch in range(counts.shape[0]):
        for q in range(ch * size, ch * size + counts[ch]):
            out[k] = buf[q]
            k += 1
    return out


@njit(cache=True, error_model="numpy")
def advance_shares(old_posters, new_posters, shared_prev, shared_now, shared_any, shared_kinds,
                   packed, g_indptr):
    """Today's shares become tomorrow's feed: ``shared_prev``, ``shared_any`` (its platform
    bits per consumer) and, if ``packed``, ``shared_kinds`` (:func:`pack_kinds`) take the rows
    of today's posters; ``shared_now`` is cleared. Touches the rows of yesterday's and today's
    posters only (everyone else's rows are 0).

    Returns:
        :func:`poster_work` of the new posters, counted on the way (their rows are read here
        anyway): tomorrow's work of pushing their posts and the most views it can draw.
    """
    for j in old_posters:
        for kind in range(3):
            shared_prev[j, kind] = 0
        shared_any[j] = 0
        if packed:
            shared_kinds[j] = 0
    work, bound = 0, 0
    for j in new_posters:
        bits = np.uint32(0)
        for kind in range(3):
            shared_prev[j, kind] = shared_now[j, kind]
            bits |= shared_now[j, kind]
            shared_now[j, kind] = 0
        shared_any[j] = bits
        if packed:
            shared_kinds[j] = pack_kinds(shared_prev[j, 0], shared_prev[j, 1], shared_prev[j, 2])
        entries, views = _push_cost(g_indptr, shared_prev, j)
        work += entries
        bound += views
    return work, bound


#: Platforms per kind in a packed share word (:func:`pack_kinds`): three kinds fit 64 bits.
PACK_BITS = 21
_PACK_MASK = np.uint64((1 << PACK_BITS) - 1)


@njit(cache=True, inline="always", error_model="numpy")
def pack_kinds(s0, s1, s2):
    """A consumer's three share masks (share, review, referral: platform bits) in one 64-bit
    word, 21 bits each, so that a friend's shares are one read (scenarios of up to 21
    platforms; beyond, the kernels read the masks themselves)."""
    return (np.uint64(s0) | (np.uint64(s1) << np.uint64(PACK_BITS))
            | (np.uint64(s2) << np.uint64(2 * PACK_BITS)))


@njit(cache=True, inline="always", error_model="numpy")
def _unpack_kind(word, kind):
    """One kind's platform mask out of a :func:`pack_kinds` word."""
    return np.uint32((word >> np.uint64(PACK_BITS * kind)) & _PACK_MASK)


@njit(cache=True, error_model="numpy")
def poster_work(g_indptr, shared_prev, posters):
    """What pushing the ``posters``' shares to their friends takes (:func:`friends_views`): the
    number of their friend-list entries, against the work of walking the friend lists of
    everyone with something to see (:func:`friends_mark`, then the exposure pass), and the most
    views the push can draw (entries x (kind, platform) pairs shared: its buffer's size).
    (:func:`advance_shares` counts the same for each day's new posters.)"""
    work, bound = 0, 0
    for j in posters:
        entries, views = _push_cost(g_indptr, shared_prev, j)
        work += entries
        bound += views
    return work, bound


@njit(cache=True, inline="always", error_model="numpy")
def _push_cost(g_indptr, shared_prev, j):
    """(friend-list entries, most views) of pushing poster j's shares: one view per entry and
    (kind, platform) pair shared."""
    pairs = 0
    for kind in range(3):
        pairs += _popcount(shared_prev[j, kind])
    degree = g_indptr[j + 1] - g_indptr[j]
    return degree, pairs * degree


@njit(cache=True, error_model="numpy")
def friends_mark(g_indptr, g_indices, posters, shared_any, influencers, influencer_on,
                 infl_platform, friend_any):
    """Per consumer, the platforms on which some friend has something to show today
    (``friend_any``: yesterday's shares and today's influencer posts), pushed from those who
    posted, so the exposure pass walks the friend lists of only those with something to see
    (the graph is undirected). Bitwise OR is order-free."""
    for j in posters:
        bits = shared_any[j]
        for e in range(g_indptr[j], g_indptr[j + 1]):
            friend_any[g_indices[e]] |= bits
    if influencer_on:
        infl_bit = np.uint32(1) << np.uint32(infl_platform)
        for j in influencers:
            for e in range(g_indptr[j], g_indptr[j + 1]):
                friend_any[g_indices[e]] |= infl_bit


@njit(cache=True, error_model="numpy")
def push_views(g_indptr, g_indices, g_mirror):
    """Per friend-list entry ``e`` of consumer j (friend ``i = g_indices[e]``), the view of a
    post of j's that i would be shown, less its kind and platform (:func:`friends_views`' code):
    ``i << 33 | 128 * (j's position in i's friend list)`` (``g_mirror[e]``: the index a pull
    draws with). One array, 8 bytes an entry, so pushing a post reads one friend list rather
    than two."""
    out = np.empty(g_indices.shape[0], dtype=np.int64)
    for e in range(g_indices.shape[0]):
        out[e] = (np.int64(g_indices[e]) << 33) | (np.int64(g_mirror[e]) * 128)
    return out


#: Friends per consumer that a view's key holds (a position in 33 - 7 = 26 bits).
MAX_FRIENDS = 2 ** 26

#: The bit of a candidate view (:func:`friends_views`) that marks it seen (above the 60 bits
#: of a view: consumer < 2**27 above a 33-bit key).
_SEEN_BIT = np.int64(1) << np.int64(62)


@njit(cache=True, error_model="numpy")
def _draw_peer_views(dkey, views, n, peer_view):
    """Mark each of the first ``n`` candidate ``views`` (:func:`friends_views`' code) seen or
    not (:data:`_SEEN_BIT`): drawn from the viewer's stream with the tag a pull would use.
    Arithmetic alone, in a loop the compiler vectorises."""
    for k in range(n):
        v = views[k]
        local, kind, p = view_parts(view_key(v))
        seen = uniform(subkey(dkey, view_consumer(v)),
                       make_tag(EXPOSURE, p, S_PEER, local * 4 + kind)) < peer_view
        views[k] = v | (np.int64(seen) << np.int64(62))


@njit(cache=True, error_model="numpy")
def friends_views(dkey, g_indptr, g_push, active, all_active, shared_prev, posters,
                  influencers, influencer_on, infl_platform, peer_view, infl_reach, out):
    """Which friends' posts each consumer sees today, pushed from the few who posted.

    For every consumer j who shared yesterday (``posters``) or is an influencer posting today,
    and every friend i who opened a platform j posted on, i sees the post with P(peer view) (or
    P(influencer reach)), drawn from i's own stream with the same tag as if i had walked its
    friend list: the index is j's position in i's (sorted) friend list. The draws do not depend
    on anyone's state, so they can be made before the exposure pass; that pass then replays each
    consumer's views in friend-list order (the order of the keys), exactly as a pull would.

    ``g_push``: :func:`push_views` of the graph (per friend-list entry, the view's consumer and
    position). ``all_active``: the platforms every consumer opened today (a bitwise AND of
    ``active``, or 0): views on those need no check of who opened what.

    The views go to ``out`` (at least :func:`poster_work`'s bound long; the model keeps one
    buffer, as fresh pages each day cost the kernel's page clearing), unsorted: ``(i << 33) | key`` with
    ``key = 128 * position + 32 * kind + platform``, where kind 0-2 is a share, review or
    referral (K_*) and 3 an influencer post (:func:`view_consumer`, :func:`view_key`).

    Returns:
        The number of views written; -1 (none usable) if ``out`` is found too short for the
        draws (checked before each poster's), which happens only when the shares were written
        without ``state_changed()``. Positions in friend lists must be below
        :data:`MAX_FRIENDS` (the model refuses graphs with longer friend lists).
    """
    # Separate tight loops rather than one: 1. every candidate view along the posters' edges
    # (into a buffer sized beforehand: growing it inside the loop would make numba count
    # references to it on every pass); 2. its draw, a loop of arithmetic alone, which the
    # compiler vectorises (eight hashes at a time: a third of the time of drawing in loop 1);
    # 3. the views seen, compacted; 4. those whose friend opened the platform. Loop 4's loads
    # are independent of one another, so the processor overlaps their cache misses.
    n_draws = 0
    n_posters = posters.shape[0]
    shares_flat = shared_prev.reshape(-1)  # (a view, for the prefetch of a row)
    codes = np.empty(96, dtype=np.int64)  # a poster's (kind, platform) pairs: 3 x 32 at most
    posted = np.uint32(0)  # platforms of any view drawn
    for q in range(n_posters):
        # Ask early for what later posters need: their friend-list bounds 16 posters ahead,
        # their friend lists and shares 8 ahead (a hint: see simulation.prefetch).
        if q + 16 < n_posters:
            prefetch(g_indptr, posters[q + 16])
        if q + 8 < n_posters:
            ahead = posters[q + 8]
            prefetch(g_push, g_indptr[ahead])
            prefetch(shares_flat, ahead * 3)
        j = posters[q]
        n_codes = 0
        for kind in range(3):
            m = shared_prev[j, kind]
            posted |= m
            while m != 0:
                p = _lowest_bit(m)
                m &= m - np.uint32(1)
                codes[n_codes] = kind * 32 + p
                n_codes += 1
        if n_draws + n_codes * (g_indptr[j + 1] - g_indptr[j]) > out.shape[0]:
            return -1  # the bound was counted from other shares (written without state_changed)
        for e in range(g_indptr[j], g_indptr[j + 1]):
            view = g_push[e]
            for t in range(n_codes):
                out[n_draws] = view | codes[t]
                n_draws += 1
    _draw_peer_views(dkey, out, n_draws, peer_view)
    count = 0
    for k in range(n_draws):
        v = out[k]
        out[count] = v & ~_SEEN_BIT  # (written always, kept if seen: no branch to mispredict)
        count += (v >> np.int64(62)) & np.int64(1)
    if influencer_on:
        for j in influencers:
            if count + (g_indptr[j + 1] - g_indptr[j]) > out.shape[0]:
                return -1
            for e in range(g_indptr[j], g_indptr[j + 1]):
                view = g_push[e]
                local = view_key(view) >> 7
                if uniform(subkey(dkey, view_consumer(view)),
                           make_tag(EXPOSURE, infl_platform, S_INFLUENCER, local)) < infl_reach:
                    out[count] = view | (96 + infl_platform)  # kind 3, the platform
                    count += 1
        posted |= np.uint32(1) << np.uint32(infl_platform)
    if (posted & ~all_active) == 0:
        return count  # every consumer opened every platform posted on
    kept = 0
    for k in range(count):
        v = out[k]
        if (active[v >> 33] >> np.uint32(v & 31)) & np.uint32(1):
            out[kept] = v
            kept += 1
    return kept


@njit(cache=True, inline="always", error_model="numpy")
def view_consumer(v):
    """The consumer shown view ``v`` of :func:`friends_views`."""
    return v >> 33


@njit(cache=True, inline="always", error_model="numpy")
def view_key(v):
    """The key of view ``v`` of :func:`friends_views`: 128 * position + 32 * kind + platform."""
    return v & ((np.int64(1) << 33) - 1)


@njit(cache=True, inline="always", error_model="numpy")
def view_parts(key):
    """A view's key (:func:`view_key`) as (the poster's position in the friend list, kind,
    platform); kind 3 is an influencer post."""
    return key >> 7, (key >> 5) & 3, key & 31


@njit(cache=True, inline="always", error_model="numpy")
def _organic_count(i, p, ck, w, org_p0):
    """How many of platform p's organic posts consumer i is shown today (p opened today): by
    the platform's mechanic, a Poisson draw from the library's total reach.

    Returns:
        (count, the platform's total reach today: the scale of the draws of which posts).
    """
    first, end = w.lib_off[p], w.lib_off[p + 1]
    if end == first:
        return 0, 0.0
    mech = np.int64(w.plat[p, P_MECH])
    if mech == MECH_SOCIAL and (w.follows[i] & (np.uint32(1) << np.uint32(p))) == 0:
        return 0, 0.0
    if mech == MECH_SEARCH and w.stage[i] < 1 and w.in_market[i] == 0:
        return 0, 0.0
    total = w.lib_cum[end - 1]
    u = uniform(ck, make_tag(EXPOSURE, p, S_ORGANIC, 0))
    return poisson_with_p0(total, org_p0[p], u, np.int64(w.beh[B_MAX_FEED])), total


@njit(cache=True, inline="always", error_model="numpy")
def _sends_to(i, o, w):
    """Whether owned list o sends today and consumer i is subscribed to it."""
    return w.owned_i[o, 2] != 0 and (
        w.subscribed[i] & (np.uint32(1) << np.uint32(w.owned_i[o, 0]))) != 0


@njit(cache=True, inline="always", error_model="numpy")
def _ad_count(i, l, ck, day, act, w, ad_p0):
    """How many impressions of ad line l consumer i is served today (a Poisson draw at the
    line's rate times the consumer's weight, capped; hiding the ads stops them later)."""
    ad_i, ad_f = w.ad_i, w.ad_f
    line = (ad_i[l, 0], ad_i[l, 1], ad_i[l, 2], ad_i[l, 3], ad_i[l, 4], ad_i[l, 5],
            ad_i[l, 6], ad_i[l, 7], ad_i[l, 8], ad_i[l, 9])
    weight = _eligible_weight(day, act, w.hidden[i], w.stage[i], w.last_engaged_day[i],
                              w.last_touch_day[i], w.segment[i], w.in_market[i],
                              w.professional[i], line, ad_f[l, AF_PRECISION])
    if weight <= 0.0:
        return 0
    u = uniform(ck, make_tag(DELIVERY, ad_i[l, A_PLATFORM], ad_i[l, A_SOURCE], l))
    p0 = ad_p0[l, 0] if weight == 1.0 else ad_p0[l, 1]
    return poisson_with_p0(ad_f[l, AF_LAMBDA] * weight, p0, u, ad_i[l, A_CAP])


@njit(cache=True, inline="always", error_model="numpy")
def _shown_anything(i, ck, act, day, w, org_p0, ad_p0, view):
    """Whether consumer i is shown anything today, by the draws its visit would make: an
    owned-list send, a friend's post (pushed: the next view is its own; pulled: a friend shared
    on a platform it opened), an organic post or an ad. A screened day passes over the quiet
    consumers (not on the watch list) shown nothing: their visit would change nothing
    (:func:`quiet_after`). Not for a well-mixed population (contacts are drawn in the visit)."""
    for o in range(w.owned_i.shape[0]):
        if _sends_to(i, o, w):
            return True
    if act == 0:
        return False  # no session: only owned sends reach it (friends' posts need one too)
    if w.peer_push:
        if view < w.peer_views.shape[0] and view_consumer(w.peer_views[view]) == i:
            return True
    elif (w.friend_any[i] & act) != 0:
        return True
    m = act
    while m != 0:
        p = _lowest_bit(m)
        m &= m - np.uint32(1)
        if _organic_count(i, p, ck, w, org_p0)[0] > 0:
            return True
    for l in range(w.ad_i.shape[0]):
        if _ad_count(i, l, ck, day, act, w, ad_p0) > 0:
            return True
    return False


@njit(cache=True, parallel=True, error_model="numpy")
def exposures_and_responses(dkey, day, n_chunks, w):
    """Pass B: every consumer's day: exposures, responses, word of mouth, retention, decay.

    On a quiet day (``w.sparse``) only the watched consumers and those shown a friend's post are
    visited (:func:`quiet_after`); on a screened day (``w.screen``) the others are visited only if
    shown something (:func:`_shown_anything`). Tallies go to row ``ch`` of ``w.ev`` (events x platforms),
    ``ev_line`` (delivered impressions per ad line), ``ev_post`` (impressions and engagements per
    library post), ``stage_counts`` and ``trust_change`` (changes: running totals),
    ``new_reach`` and ``visits``; the worklists to ``watch_out`` and ``posters``.
    """
    n = w.stage.shape[0]
    size = (n + n_chunks - 1) // n_chunks
    # P(no exposure) of each platform's organic draw and of each ad line's, once a day.
    plat, lib_off, lib_cum, ad_i, ad_f = w.plat, w.lib_off, w.lib_cum, w.ad_i, w.ad_f
    org_p0 = np.ones(plat.shape[0])
    for p in range(plat.shape[0]):
        if lib_off[p + 1] > lib_off[p]:
            org_p0[p] = np.exp(-lib_cum[lib_off[p + 1] - 1])
    ad_p0 = np.ones((ad_i.shape[0], 2))  # by weight: 1, or the conversion objective's lift
    for l in range(ad_i.shape[0]):
        ad_p0[l, 0] = np.exp(-(ad_f[l, AF_LAMBDA] * 1.0))
        ad_p0[l, 1] = np.exp(-(ad_f[l, AF_LAMBDA] * (1.0 + 3.0 * ad_f[l, AF_PRECISION] * 1.0)))
    # Each chunk's first pushed view; on a quiet day a chunk with nobody to visit is skipped.
    first_view = np.searchsorted(w.peer_views, np.minimum(np.arange(n_chunks + 1) * size, n) << 33)
    # (The counts are reset here, serially: numba drops writes to a StructRef's arrays made
    # directly in a prange body; the chunks write theirs in the serial _day_chunk.)
    w.watch_out_n[:] = 0
    w.posters_n[:] = 0
    w.visits[:] = 0
    sparse, watch_in_n = w.sparse, w.watch_in_n
    for ch in prange(n_chunks):
        if not (sparse and watch_in_n[ch] == 0 and first_view[ch] == first_view[ch + 1]):
            _day_chunk(ch, ch * size, min(n, (ch + 1) * size), dkey, day, w, org_p0, ad_p0,
                       first_view[ch])


@njit(cache=True, error_model="numpy")
def _day_chunk(ch, lo, hi, dkey, day, w, org_p0, ad_p0, view):
    """One chunk of consumers' day (serial; chunks run in parallel). ``view``: the chunk's first
    pushed view (index into ``w.peer_views``)."""
    g_indptr, g_indices, shared_any, friend_any = w.indptr, w.indices, w.shared_any, w.friend_any
    shared_kinds, packed = w.shared_kinds, w.packed
    push, peer_views = w.peer_push, w.peer_views
    complete, mean_degree, sharers = w.complete, w.mean_degree, w.sharers
    influencer_on, infl_platform, infl_creative = w.influencer_on, w.infl_platform, w.infl_creative
    n_influencers, beh = w.n_influencers, w.beh
    lib_off, lib_cum, lib_creative = w.lib_off, w.lib_cum, w.lib_creative
    ad_i, owned_i, owned_f = w.ad_i, w.owned_i, w.owned_f
    peer_creative, public, ev, ev_line, ev_post = w.peer_creative, w.public, w.ev, w.ev_line, w.ev_post
    stage_counts, trust_change, new_reach = w.stage_counts, w.trust_change, w.new_reach
    traced, log, log_n = w.traced, w.log, w.log_n
    n = w.stage.shape[0]
    # The worklists: on a quiet day only the consumers watched since yesterday and those shown a
    # friend's post are visited (see quiet_after), on a screened day the watched and those whose
    # draws show them something; every day lists who to watch tomorrow and who posted today, in
    # this chunk's slice of the buffers (a chunk has at most hi - lo).
    sparse, screen = w.sparse, w.screen
    watch_in, watch_out, posters = w.watch_in, w.watch_out, w.posters
    start = lo  # this chunk's slice of the buffers starts at its first consumer
    wpos, wend = start, start + w.watch_in_n[ch]
    n_watch, n_posters, n_visits = 0, 0, 0
    n_views = peer_views.shape[0]
    nxt = _next_worker(watch_in, wpos, wend, peer_views, view, n_views, hi)
    i = lo - 1
    while True:
        if sparse:
            # Straight to the next consumer on the worklists: the others are quiet today.
            i = nxt
            if i >= hi:
                break
            if wpos < wend and watch_in[wpos] == i:
                wpos += 1
        else:
            i += 1
            if i >= hi:
                break
            if screen:
                if wpos < wend and watch_in[wpos] == i:
                    wpos += 1  # watched: visited
                elif not _shown_anything(i, subkey(dkey, i), w.active[i], day, w, org_p0, ad_p0,
                                         view):
                    continue  # quiet and shown nothing: nothing to change
        if sparse:
            # Ask for the state of a consumer a few visits ahead (a hint: see prefetch).
            if view + LOOKAHEAD < n_views:
                _prefetch_consumer(w, view_consumer(peer_views[view + LOOKAHEAD]))
            if wpos + LOOKAHEAD < wend:
                _prefetch_consumer(w, watch_in[wpos + LOOKAHEAD])
        stage_in, trust_in = w.stage[i], w.trust[i]
        n_visits += 1
        ck = subkey(dkey, i)
        act = w.active[i]
        bought = False  # at most one purchase a day
        was_reached = w.reached[i] != 0
        was_engaged = w.last_engaged_day[i] >= 0
        owned_touch = False
        first_buy = False
        # 1. Owned-list sends (no session needed: the send waits in the inbox).
        for o in range(owned_i.shape[0]):
            op = owned_i[o, 0]
            ob = np.uint32(1) << np.uint32(op)
            if _sends_to(i, o, w):
                ev[ch, E_SENDS, op] += 1.0
                r = _expose_traced(i, owned_i[o, 1], S_OWNED, o, ck, ch, day, w, bought)
                first_buy, bought = _purchases(r, first_buy, bought)
                owned_touch = True
                u = uniform(ck, make_tag(RESPONSE, op, S_OWNED, (1 << 30) + o))
                if u < owned_f[o, 1]:
                    w.subscribed[i] &= ~ob
                    ev[ch, E_UNSUBSCRIBES, op] += 1.0
        # 2. Friends' shares, reviews and referrals from yesterday; influencer posts today.
        if act != 0:
            if not complete:
                if push:
                    # The views drawn by friends_views, in friend-list order (as a pull).
                    while view < n_views and view_consumer(peer_views[view]) == i:
                        key = view_key(peer_views[view])
                        view += 1
                        local, kind, p = view_parts(key)
                        if kind < 3:
                            src = S_REFERRAL if kind == K_REFERRAL else S_PEER
                            r = _expose_traced(i, peer_creative[p, kind], src, local * 4 + kind, ck,
                                               ch, day, w, bought)
                        else:
                            r = _expose_traced(i, infl_creative, S_INFLUENCER, local, ck, ch, day,
                                               w, bought)
                        first_buy, bought = _purchases(r, first_buy, bought)
                elif (friend_any[i] & act) != 0:
                    # Pulled: only friends who shared on a platform opened today can show it.
                    act3 = pack_kinds(act, act, act)
                    word = np.uint64(0)
                    for e in range(g_indptr[i], g_indptr[i + 1]):
                        j = g_indices[e]
                        # Most friends shared nothing yesterday: one read of a compact word skips
                        # them (packed: the same word holds what each kind was shared on).
                        if packed:
                            word = shared_kinds[j] & act3
                            if word == 0 and not (influencer_on and w.influencer[j]):
                                continue
                        elif (shared_any[j] & act) == 0 and not (
                                influencer_on and w.influencer[j]):
                            continue
                        local = e - g_indptr[i]
                        for kind in range(3):
                            if packed:
                                m = _unpack_kind(word, kind)
                            else:
                                m = w.shared_prev[j, kind] & act
                            while m != 0:
                                p = _lowest_bit(m)
                                m &= m - np.uint32(1)
                                idx = local * 4 + kind
                                if uniform(ck, make_tag(EXPOSURE, p, S_PEER, idx)) < beh[
                                        B_PEER_VIEW]:
                                    src = S_REFERRAL if kind == K_REFERRAL else S_PEER
                                    r = _expose_traced(i, peer_creative[p, kind], src, idx, ck, ch,
                                                       day, w, bought)
                                    first_buy, bought = _purchases(r, first_buy, bought)
                        if influencer_on and w.influencer[j] != 0 and (
                                act >> np.uint32(infl_platform)) & np.uint32(1):
                            if uniform(ck, make_tag(EXPOSURE, infl_platform, S_INFLUENCER,
                                                    local)) < beh[B_INFL_REACH]:
                                r = _expose_traced(i, infl_creative, S_INFLUENCER, local, ck, ch,
                                                   day, w, bought)
                                first_buy, bought = _purchases(r, first_buy, bought)
            else:
                # Well mixed: each consumer meets mean_degree random others a day (the
                # fractional part as one more contact with that probability); each contact
                # who shared yesterday is seen with P(peer view).
                others = max(n - 1, 1)
                contacts = np.int64(mean_degree)
                if uniform(ck, make_tag(EXPOSURE, 0, S_PEER, 1023)) < mean_degree - contacts:
                    contacts += 1
                m = act
                while m != 0:
                    p = _lowest_bit(m)
                    m &= m - np.uint32(1)
                    for kind in range(3):
                        prob = beh[B_PEER_VIEW] * sharers[p, kind] / others
                        u = uniform(ck, make_tag(EXPOSURE, p, S_PEER, kind))
                        k = binomial_from_uniform(contacts, prob, u)
                        for q in range(k):
                            idx = 4 * q + kind
                            src = S_REFERRAL if kind == K_REFERRAL else S_PEER
                            r = _expose_traced(i, peer_creative[p, kind], src, idx, ck, ch, day, w, bought)
                            first_buy, bought = _purchases(r, first_buy, bought)
                if influencer_on and (act >> np.uint32(infl_platform)) & np.uint32(1):
                    prob = beh[B_INFL_REACH] * n_influencers / others
                    u = uniform(ck, make_tag(EXPOSURE, infl_platform, S_INFLUENCER, 0))
                    for q in range(binomial_from_uniform(contacts, prob, u)):
                        r = _expose_traced(i, infl_creative, S_INFLUENCER, q, ck, ch, day, w, bought)
                        first_buy, bought = _purchases(r, first_buy, bought)
        # 3. The brand's organic posts, by each platform's mechanic.
        m = act
        while m != 0:
            p = _lowest_bit(m)
            m &= m - np.uint32(1)
            k, total = _organic_count(i, p, ck, w, org_p0)
            first, end = lib_off[p], lib_off[p + 1]
            for q in range(k):
                target = uniform(ck, make_tag(EXPOSURE, p, S_ORGANIC, 1 + q)) * total
                pos = first + np.searchsorted(lib_cum[first:end], target, side="right")
                pos = min(pos, end - 1)
                r = _expose_traced(i, lib_creative[pos], S_ORGANIC, q, ck, ch, day, w, bought)
                first_buy, bought = _purchases(r, first_buy, bought)
                ev_post[ch, pos, 0] += 1.0
                if r & R_ENGAGED:
                    ev_post[ch, pos, 1] += 1.0
        # 4. Paid and retargeting lines.
        for l in range(ad_i.shape[0]):
            k = _ad_count(i, l, ck, day, act, w, ad_p0)
            src = ad_i[l, A_SOURCE]
            for q in range(k):
                if w.hidden[i] != 0:
                    break  # the platform stops serving (and billing) ads the consumer hid
                ev_line[ch, l] += 1.0
                r = _expose_traced(i, ad_i[l, A_CREATIVE], src, l * 128 + q, ck, ch, day, w, bought)
                first_buy, bought = _purchases(r, first_buy, bought)
        # 5. Word of mouth for tomorrow: reviews by new customers, referrals by advocates.
        home = _home_platform(w.purchase_platform[i], w.uses[i], public)
        if home >= 0:
            hb = np.uint32(1) << np.uint32(home)
            # New customers review; later, customers keep mentioning the brand at talk_rate.
            talk = beh[B_REVIEW] if first_buy else (beh[B_TALK] if w.stage[i] >= 4 else 0.0)
            if chance(ck, make_tag(SHARE, home, 0, 0), talk):
                w.shared_now[i, K_REVIEW] |= hb
                ev[ch, E_SHARES, home] += 1.0
            if w.stage[i] == 5:
                rate = beh[B_REFERRAL] * (1.0 + beh[B_REFERRAL_ELASTICITY] * beh[B_REWARD] / beh[B_PRICE])
                if chance(ck, make_tag(SHARE, home, 0, 1), rate):
                    w.shared_now[i, K_REFERRAL] |= hb
                    ev[ch, E_SHARES, home] += 1.0
        # 6. Retention: customers buy again on their repurchase cycle.
        stage = w.stage[i]
        stage_after_touches = stage
        retained = False
        if stage >= 4 and not bought and beh[B_REPURCHASE] > 0.0:
            rate = beh[B_REPURCHASE] * (0.5 + w.trust[i])
            if owned_touch:
                rate *= 1.0 + beh[B_OWNED_BOOST]
            if chance(ck, make_tag(RETENTION, 0, 0, 0), rate):
                price = beh[B_PRICE]
                ap = w.purchase_platform[i]
                w.purchases[i] += 1
                w.revenue[i] += price
                ev[ch, E_REVENUE, ap] += price
                ev[ch, E_REPEAT, ap] += 1.0
                retained = True
                if stage == 4 and w.trust[i] >= beh[B_ADVOCATE_TRUST]:
                    stage = 5
        # 7. Decay: trust drifts to baseline, fatigue recovers, untouched attention fades.
        base = w.baseline_trust[i]
        w.trust[i] += (base - w.trust[i]) * beh[B_TRUST_DECAY]
        w.fatigue[i] *= beh[B_FATIGUE_KEEP]
        if w.last_touch_day[i] < day and (stage == 1 or stage == 2):
            if chance(ck, make_tag(DECAY, 0, 0, 0), beh[B_FORGET]):
                stage -= 1
        if stage == 3 and w.trust[i] < beh[B_TRUST_THRESHOLD]:
            stage = 2
        w.stage[i] = stage
        if traced.shape[0] != 0 and traced[i] != 0 and (retained or stage != stage_after_touches):
            jrow = np.empty(N_JCOLS, dtype=np.int64)
            jrow[J_DAY], jrow[J_CONSUMER], jrow[J_PURPOSE] = day, i, -1
            jrow[J_PLATFORM] = w.purchase_platform[i] if retained else -1
            jrow[J_SOURCE] = J_RETENTION if retained else J_DAY_END
            jrow[J_STAGE_BEFORE], jrow[J_STAGE_AFTER] = stage_after_touches, stage
            jrow[J_RESULT] = R_REPEAT_PURCHASE if retained else 0
            jrow[J_TRUST_PPM] = np.int64(w.trust[i] * 1e6 + 0.5)
            _journal(ch, jrow, log, log_n)
        # 8. Tallies: changes only (a quiet consumer changes nothing), trust in fixed point so
        # that the sum does not depend on who was visited.
        if stage != stage_in:
            stage_counts[ch, stage_in] -= 1
            stage_counts[ch, stage] += 1
        trust_change[ch] += fixed_trust(w.trust[i]) - fixed_trust(trust_in)
        if not was_reached and w.reached[i] != 0:
            new_reach[ch, 0] += 1
        if not was_engaged and w.last_engaged_day[i] >= 0:
            new_reach[ch, 1] += 1
        # 9. Tomorrow's worklists.
        if not quiet_after(stage, w.trust[i], base, w.fatigue[i], beh):
            watch_out[start + n_watch] = i
            n_watch += 1
        if (w.shared_now[i, 0] | w.shared_now[i, 1] | w.shared_now[i, 2]) != 0:
            posters[start + n_posters] = i
            n_posters += 1
        if sparse:
            while view < n_views and view_consumer(peer_views[view]) <= i:
                view += 1  # (views are taken in the exposures above: a guard, never used)
            nxt = _next_worker(watch_in, wpos, wend, peer_views, view, n_views, hi)
    w.watch_out_n[ch] = n_watch
    w.posters_n[ch] = n_posters
    w.visits[ch] = n_visits


#: Units of the trust tally: trust is summed as integers of 2**-36 (exact, so the sum does not
#: depend on which consumers were visited or in what order; up to 2**27 consumers fit).
TRUST_UNIT = 2.0 ** -36


@njit(cache=True, inline="always", error_model="numpy")
def fixed_trust(trust):
    """Trust in units of TRUST_UNIT (rounded)."""
    return np.int64(trust * 68719476736.0 + 0.5)


@njit(cache=True, error_model="numpy")
def fixed_trust_sum(trust):
    """Sum of :func:`fixed_trust` over all consumers (the trust tally from scratch)."""
    total = np.int64(0)
    for x in trust:
        total += fixed_trust(x)
    return total


#: Visits ahead whose state is prefetched on quiet days.
LOOKAHEAD = 6


@njit(cache=True, inline="always", error_model="numpy")
def _prefetch_consumer(w, i):
    """Prefetch consumer i's record: the two cache lines holding what a visit reads (the state
    and trait arrays are fields of one 128-byte record per consumer, agents.layout)."""
    prefetch(w.trust, i)  # the record's first field: its first line
    prefetch(w.in_market, i)  # its last: the second line
    prefetch(w.pre_touches, i)  # (a stop before the first purchase counts there)


@njit(cache=True, inline="always", error_model="numpy")
def _next_worker(watch_in, wpos, wend, peer_views, view, n_views, hi):
    """The next consumer to visit on a quiet day: watched or shown a friend's post (hi: none)."""
    nxt = hi
    if wpos < wend:
        nxt = watch_in[wpos]
    if view < n_views and view_consumer(peer_views[view]) < nxt:
        nxt = view_consumer(peer_views[view])
    return nxt


@njit(cache=True, inline="always", error_model="numpy")
def quiet_after(stage, trust, baseline, fatigue, beh):
    """Whether a consumer's next day is certain to change nothing unless content reaches it.

    True when trust is at its baseline and fatigue 0 (decay is a no-op), no stage has a daily
    rule (customers buy again and talk; aware and engaged consumers forget; trusting ones can
    fall back below the threshold). On days without organic posts, ads or sends (the model's
    quiet days) a quiet consumer is visited only when shown a friend's post; on screened days,
    only when the draws of its visit show it something (:func:`_shown_anything`).
    """
    if trust != baseline or fatigue != 0.0:
        return False
    if stage >= 4:
        return not (beh[B_REPURCHASE] > 0.0 or beh[B_TALK] > 0.0
                    or (stage == 5 and beh[B_REFERRAL] > 0.0))
    if stage == 1 or stage == 2:
        return not beh[B_FORGET] > 0.0
    if stage == 3:
        return not baseline < beh[B_TRUST_THRESHOLD]
    return True


@njit(cache=True, error_model="numpy")
def recount(stage, trust, baseline, fatigue, shared_prev, shared_now, beh, size, watch, watch_n,
            shared_any, shared_kinds, packed, stage_total):
    """The running tallies and worklists from the state arrays alone, in one pass (the model's
    recount after its state was written, and its first day).

    Fills ``shared_any`` (each consumer's platform bits of yesterday's shares), ``shared_kinds``
    (if ``packed``: :func:`pack_kinds` of them), ``stage_total``
    (consumers per stage) and the watch list (:func:`watch_list`).

    Returns:
        (who shared yesterday, the trust total in units of TRUST_UNIT, whether anyone has
        shares written for today).
    """
    n = stage.shape[0]
    stage_total[:] = 0
    posters = np.empty(n, dtype=np.int64)
    n_posters = 0
    total = np.int64(0)
    shared_today = False
    for i in range(n):
        bits = shared_prev[i, 0] | shared_prev[i, 1] | shared_prev[i, 2]
        shared_any[i] = bits
        if packed:
            shared_kinds[i] = pack_kinds(shared_prev[i, 0], shared_prev[i, 1], shared_prev[i, 2])
        if bits != 0:
            posters[n_posters] = i
            n_posters += 1
        stage_total[stage[i]] += 1
        total += fixed_trust(trust[i])
        if (shared_now[i, 0] | shared_now[i, 1] | shared_now[i, 2]) != 0:
            shared_today = True
    watch_list(stage, trust, baseline, fatigue, beh, size, watch, watch_n)
    return posters[:n_posters].copy(), total, shared_today


@njit(cache=True, error_model="numpy")
def watch_list(stage, trust, baseline, fatigue, beh, size, watch, watch_n):
    """Everyone not quiet now (:func:`quiet_after` of the current state), into each chunk's slice
    of ``watch`` (chunks of ``size`` consumers; counts in ``watch_n``): the watch list a day
    visiting everyone would have left, built without that day."""
    n = stage.shape[0]
    for ch in range(watch_n.shape[0]):
        lo, hi = ch * size, min(n, (ch + 1) * size)
        k = 0
        for i in range(lo, hi):
            if not quiet_after(stage[i], trust[i], baseline[i], fatigue[i], beh):
                watch[lo + k] = i
                k += 1
        watch_n[ch] = k


@njit(cache=True, inline="always", error_model="numpy")
def _home_platform(purchase_platform, uses, public):
    """The platform a consumer posts reviews and referrals on: where it bought, else the first
    it uses; never an owned list or a chat app (a review is a public post: people do not review
    a product by email or broadcast it into private chats). ``public``: bit mask of the public
    platforms (see :func:`public_mask`)."""
    p = purchase_platform
    if p >= 0 and (uses >> np.uint32(p)) & np.uint32(1) and (public >> np.uint32(p)) & np.uint32(1):
        return p
    m = uses & public
    return _lowest_bit(m) if m != 0 else -1


def public_mask(plat: np.ndarray) -> np.uint32:
    """Bit mask of the platforms where posts are public (not owned lists or messaging apps)."""
    mech = plat[:, P_MECH]
    bits = [1 << p for p in range(plat.shape[0]) if mech[p] not in (MECH_OWNED, MECH_MESSAGING)]
    return np.uint32(sum(bits))
