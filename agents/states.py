"""Funnel stages and exposure sources, shared by the agents and the kernels."""

from enum import IntEnum


class Stage(IntEnum):
    """Where a consumer is in the Attention -> Interest -> Trust -> Action chain [B]."""

    UNAWARE = 0
    AWARE = 1  # stopped scrolling at least once (attention)
    ENGAGED = 2  # liked, commented, followed or clicked (interest)
    TRUSTING = 3  # passed the trust check (consideration)
    CUSTOMER = 4  # bought
    ADVOCATE = 5  # bought again and recommends


class Source(IntEnum):
    """Who put a piece of content in front of a consumer; sources differ in credibility [D]."""

    ORGANIC = 0  # the brand's own post
    PAID = 1  # a paid ad to a targeted audience
    RETARGETING = 2  # a paid ad to a pool of people who already engaged
    INFLUENCER = 3  # a post by a seeded influencer
    PEER = 4  # a friend's share or review
    REFERRAL = 5  # an advocate's referral with an offer
    OWNED = 6  # a send to the owned list (email, SMS)


SPONSORED_SOURCES = (Source.PAID, Source.RETARGETING)
