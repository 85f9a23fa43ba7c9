"""Metric computations that do not depend on the runner."""
from .retrieval import chunked_retrieval, gt_ranks, retrieval_metrics

__all__ = ['chunked_retrieval', 'gt_ranks', 'retrieval_metrics']
