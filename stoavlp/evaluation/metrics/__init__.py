"""Registered evaluation metrics."""
from .caption import CaptionMetric
from .multiple_choice import MCAccuracy
from .qa import QAAccuracy
from .retrieval import RetrievalRecall

__all__ = ['CaptionMetric', 'MCAccuracy', 'QAAccuracy', 'RetrievalRecall']
