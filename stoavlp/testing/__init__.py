"""Synthetic inputs and small models for tests and benchmarks."""
from .clip import random_open_clip
from .synthetic import synthetic_batch

__all__ = ['random_open_clip', 'synthetic_batch']
