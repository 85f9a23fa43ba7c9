"""Synthetic inputs and small models for tests and benchmarks."""
from .clip import random_open_clip
from .demo import DEMO_PRETRAIN_OFFLINE, offline_demo_pretrain
from .references import dense_trajectory_tokens, text_blocks, text_hidden
from .synthetic import model_input_batch, synthetic_batch

__all__ = [
    'DEMO_PRETRAIN_OFFLINE', 'offline_demo_pretrain', 'random_open_clip',
    'model_input_batch', 'synthetic_batch', 'dense_trajectory_tokens',
    'text_blocks', 'text_hidden'
]
