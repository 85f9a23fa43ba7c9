"""Visualisation helpers (drawing boxes, contact sheets, colours)."""
from .drawing import DEFAULT_COLORS, draw_boxes, make_contact_sheet
from .palette import trajectory_colors

__all__ = [
    'DEFAULT_COLORS', 'draw_boxes', 'make_contact_sheet', 'trajectory_colors'
]
