"""The project's data transforms, registered into mmaction2's
``TRANSFORMS``."""
import stoavlp  # noqa: F401  (registers stoavlp's transforms first)
from .transforms import AddDetectionPath

__all__ = ['AddDetectionPath']
