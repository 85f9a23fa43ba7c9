from .retrieval_loop import RetrievalLoop, merge_features

__all__ = ['RetrievalLoop', 'merge_features']
