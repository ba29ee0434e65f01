"""Benchmarks: ``python -m bench`` runs every module; results go to ``bench/results/``."""
