"""Metric computations that do not depend on the runner."""
from .ranking import rank_direction, retrieval_ranks, video_texts
from .retrieval import chunked_retrieval, gt_ranks, retrieval_metrics

__all__ = [
    'chunked_retrieval', 'gt_ranks', 'rank_direction', 'retrieval_metrics',
    'retrieval_ranks', 'video_texts'
]
