"""Platform environments: presets with sources, and the delivery mechanics."""
