"""Visualisation: drawing helpers, loss curves and the clip visualizer."""
from .drawing import (DEFAULT_COLORS, draw_boxes, draw_tracks,
                      make_contact_sheet, render_contact_sheet, save_gif)
from .palette import trajectory_colors
from .visualizer import VideoTextVisualizer, match_words, trajectory_tracks

__all__ = [
    'DEFAULT_COLORS', 'draw_boxes', 'draw_tracks', 'make_contact_sheet',
    'render_contact_sheet', 'save_gif', 'trajectory_colors',
    'VideoTextVisualizer', 'match_words', 'trajectory_tracks'
]
