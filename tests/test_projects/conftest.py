"""``projects/`` is imported from the repository root (mmaction2's
convention: ``PYTHONPATH=$(pwd)``), whichever way pytest was started."""
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
