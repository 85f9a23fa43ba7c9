"""Colours for trajectories (object classes of a clip, most confident first)."""
import colorsys
from typing import List, Tuple


def trajectory_colors(num: int) -> List[Tuple[int, int, int]]:
    """``num`` well separated RGB colours (golden-angle hues), stable."""
    colors = []
    for i in range(num):
        hue = (i * 0.618033988749895) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
        colors.append((int(r * 255), int(g * 255), int(b * 255)))
    return colors
