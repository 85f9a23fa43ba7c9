"""Registered evaluation metrics."""
from .caption import CaptionMetric
from .mechanism import PretrainMechanismMetric
from .multiple_choice import MCAccuracy
from .qa import QAAccuracy
from .retrieval import RetrievalRecall

__all__ = ['CaptionMetric', 'MCAccuracy', 'PretrainMechanismMetric',
           'QAAccuracy', 'RetrievalRecall']
