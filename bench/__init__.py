"""Benchmarks: bulk-seeded synthetic MARAC partnership, API intake and the coordinator's case list (`make bench`)."""
