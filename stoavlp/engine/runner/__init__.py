from .retrieval_loop import RetrievalLoop, merge_features
from .train_loop import ResumableEpochBasedTrainLoop

__all__ = ['ResumableEpochBasedTrainLoop', 'RetrievalLoop', 'merge_features']
