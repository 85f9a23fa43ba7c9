"""Embedded demo dataset: synthetic shape clips in real dataset layouts.

``make_demo_dataset('data/demo')`` writes a few hundred short mp4 clips of
coloured shapes doing actions, with detections, captions, QA and multiple
choice items in the MSR-VTT (CLIP4Clip), MSRVTT-QA/MC, WebVid, MSVD, LSMDC
and DiDeMo file formats. See ``tools/data/make_demo_dataset.py``.
"""
from .generate import VERSION, make_demo_dataset, split_groups
from .scene import ACTIONS, COLORS, SHAPES

__all__ = ['make_demo_dataset', 'split_groups', 'VERSION', 'SHAPES',
           'COLORS', 'ACTIONS']
