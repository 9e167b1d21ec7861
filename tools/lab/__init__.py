"""The local federation: Karmada and member clusters from upstream components, on 127.0.0.1."""
