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


# The functions below take one platform's parameters or, post by post, arrays of them (the
# post library computes every post's weight in one pass): the same operations either way.


def decay(age_days: np.ndarray, half_life_days: float | np.ndarray) -> np.ndarray:
    """Share of a post's pull left after ``age_days`` (0.5 per half-life)."""
    return np.exp2(-np.asarray(age_days, dtype=np.float64) / np.maximum(half_life_days, 1e-9))


#: Impressions after which an interest-feed post's reach follows its engagement.
MIN_IMPRESSIONS = 20


def interest_feed_reach(
    engagement_rate: np.ndarray, impressions: np.ndarray, test_pool: float | np.ndarray,
    viral_gain: float | np.ndarray, cap: float | np.ndarray, reference_rate: float | np.ndarray,
    min_impressions: int = MIN_IMPRESSIONS,
) -> np.ndarray:
    """Daily reach probability of interest-feed posts among active users.

    A post starts in a test pool (``test_pool`` of active users); once it has ``min_impressions``
    impressions, its reach becomes ``test_pool * viral_gain * engagement_rate / reference_rate``,
    capped at ``cap``: reach follows engagement, not follower count [B].
    """
    er = np.asarray(engagement_rate, dtype=np.float64)
    grown = test_pool * viral_gain * er / np.maximum(reference_rate, 1e-12)
    reach = np.where(np.asarray(impressions) >= min_impressions, grown, test_pool)
    return np.clip(reach, 0.0, cap)


def library_weights(
    mechanic: Mechanic | np.ndarray, ages: np.ndarray, reach: np.ndarray,
    half_life_days: float | np.ndarray, search_rate: float | np.ndarray,
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
    mechanic = np.asarray(mechanic)
    w = np.where(mechanic == Mechanic.SEARCH, w * search_rate, w)
    # lists and chats deliver sends, not a library: no discovery
    return np.where((mechanic == Mechanic.OWNED_LIST) | (mechanic == Mechanic.MESSAGING), 0.0, w)
