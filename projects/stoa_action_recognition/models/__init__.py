"""The project's models, registered into mmaction2's ``MODELS``."""
# stoavlp first: its compat layer is what makes ``mmaction.models``
# importable with the mmaction2 1.2.0 wheel.
import stoavlp  # noqa: F401
from .stoa_recognizer import STOARecognizer, stack_boxes

__all__ = ['STOARecognizer', 'stack_boxes']
