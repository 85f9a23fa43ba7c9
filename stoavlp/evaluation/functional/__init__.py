"""Metric computations that do not depend on the runner."""
from .retrieval import (chunked_retrieval, gt_ranks, rank_direction,
                        retrieval_metrics, retrieval_ranks, video_texts)

__all__ = [
    'chunked_retrieval', 'gt_ranks', 'rank_direction', 'retrieval_metrics',
    'retrieval_ranks', 'video_texts'
]
