"""Consumers, the brand, the population and the social graph."""
