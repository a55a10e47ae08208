"""The delivery mechanics: how a platform decides who sees a brand's post.

A platform is a preset of numbers plus one of these mechanics, so adding a platform is a preset and
at most one new mechanic. The kernels decide per consumer who is *eligible* (follower, active user,
consumer with intent, subscriber); the functions here give each library post its daily *weight*:
the expected number of times an eligible consumer is shown it today.
"""

from enum import IntEnum

import numpy as np


class Mechanic(IntEnum):
    """How a platform delivers organic content (DESIGN.md 4.3, step 3)."""

    SOCIAL_FEED = 0  # Facebook, Instagram, LinkedIn: followers see posts at the organic-reach rate
    INTEREST_FEED = 1  # TikTok: a test pool of non-followers, then reach grows with engagement
    SEARCH = 2  # YouTube, Pinterest: a library that consumers with intent search; pull decays slowly
    OWNED_LIST = 3  # email, SMS: only subscribers, on send days
    COMMUNITY = 4  # Reddit: members see posts without following; promotion costs trust
    MESSAGING = 5  # WhatsApp, Telegram, Discord: opted-in contacts and friends only, no discovery


def decay(age_days: np.ndarray, half_life_days: float) -> np.ndarray:
    """Share of a post's pull left after ``age_days`` (0.5 per half-life)."""
    return np.exp2(-np.asarray(age_days, dtype=np.float64) / max(half_life_days, 1e-9))


def interest_feed_reach(
    engagement_rate: np.ndarray, impressions: np.ndarray, test_pool: float, viral_gain: float,
    cap: float, reference_rate: float, min_impressions: int = 20,
) -> np.ndarray:
    """Daily reach probability of interest-feed posts among active users.

    A post starts in a test pool (``test_pool`` of active users); once it has ``min_impressions``
    impressions, its reach becomes ``test_pool * viral_gain * engagement_rate / reference_rate``,
    capped at ``cap``: reach follows engagement, not follower count [B].
    """
    er = np.asarray(engagement_rate, dtype=np.float64)
    grown = test_pool * viral_gain * er / max(reference_rate, 1e-12)
    reach = np.where(np.asarray(impressions) >= min_impressions, grown, test_pool)
    return np.clip(reach, 0.0, cap)


def library_weights(
    mechanic: Mechanic, ages: np.ndarray, reach: np.ndarray, half_life_days: float,
    search_rate: float,
) -> np.ndarray:
    """Expected daily exposures of one eligible consumer to each library post.

    Args:
        mechanic: the platform's mechanic.
        ages: days since each post was published.
        reach: per post, the share of eligible consumers shown it on its first day (organic reach
            for feeds and search, the engagement-driven reach for interest feeds).
        half_life_days: days for a post's pull to halve.
        search_rate: P(a consumer with intent searches the platform today); search mechanic only.
    """
    w = np.asarray(reach, dtype=np.float64) * decay(ages, half_life_days)
    if mechanic == Mechanic.SEARCH:
        w = w * search_rate
    elif mechanic in (Mechanic.OWNED_LIST, Mechanic.MESSAGING):
        w = np.zeros_like(w)  # lists and chats deliver sends, not a library: no discovery
    return w
