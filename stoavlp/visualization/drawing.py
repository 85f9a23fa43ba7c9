"""Small drawing helpers for frames, boxes and contact sheets.

Pure numpy + Pillow (no display, no matplotlib state), so they work in
worker processes and headless test runs alike.
"""
import os
import os.path as osp
import textwrap
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Distinct, bright colours for boxes on dark frames (RGB).
DEFAULT_COLORS = [(255, 255, 255), (0, 255, 255), (255, 0, 255),
                  (255, 160, 0), (0, 255, 0), (255, 255, 0), (0, 160, 255)]


def _font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in font at ``size`` px (bitmap fallback if needed)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def draw_boxes(img: np.ndarray,
               boxes,
               labels: Optional[Sequence[str]] = None,
               colors: Optional[Sequence[Tuple[int, int, int]]] = None,
               thickness: int = 1,
               font_size: int = 10) -> np.ndarray:
    """Draw boxes (and labels) on a copy of an image.

    Args:
        img: ``(H, W, 3)`` uint8 RGB image; not modified.
        boxes: ``(n, 4)`` ``x1, y1, x2, y2`` in pixels, where a box over
            pixel columns 10..19 has ``x1=10, x2=20``.
        labels: Optional text per box, drawn on a filled tag above the box
            (inside it when the box touches the top edge).
        colors: Optional RGB colour per box; defaults cycle through
            ``DEFAULT_COLORS``.
        thickness: Line width in pixels.
        font_size: Label text size in pixels.

    Returns:
        np.ndarray: A new ``(H, W, 3)`` uint8 RGB image.
    """
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) image, got {img.shape}')
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if labels is not None and len(labels) != len(boxes):
        raise ValueError(f'{len(labels)} labels for {len(boxes)} boxes')
    if colors is not None and len(colors) != len(boxes):
        raise ValueError(f'{len(colors)} colors for {len(boxes)} boxes')
    pil = Image.fromarray(img.astype(np.uint8), 'RGB')
    draw = ImageDraw.Draw(pil)
    font = _font(font_size) if labels is not None else None
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        color = colors[k] if colors is not None else \
            DEFAULT_COLORS[k % len(DEFAULT_COLORS)]
        color = tuple(int(c) for c in color)
        # PIL's rectangle includes its end pixel: the last covered column
        # of a box [x1, x2) is x2 - 1.
        draw.rectangle([x1, y1, max(x2 - 1, x1), max(y2 - 1, y1)],
                       outline=color, width=max(int(thickness), 1))
        if labels is not None and labels[k]:
            tx1, ty1, tx2, ty2 = draw.textbbox((0, 0), labels[k], font=font)
            tw, th = tx2 - tx1 + 2, ty2 - ty1 + 2
            ty = y1 - th if y1 - th >= 0 else y1
            draw.rectangle([x1, ty, x1 + tw, ty + th], fill=color)
            # Black or white text, whichever reads better on the tag.
            luma = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
            draw.text((x1 + 1 - tx1, ty + 1 - ty1), labels[k], font=font,
                      fill=(0, 0, 0) if luma > 128 else (255, 255, 255))
    return np.asarray(pil).copy()


def label_corner(img: np.ndarray, text: str,
                 font_size: int = 10) -> np.ndarray:
    """A copy of an ``(H, W, 3)`` uint8 RGB image with ``text`` in white
    on a black tag in its bottom-left corner."""
    pil = Image.fromarray(np.asarray(img, np.uint8), 'RGB')
    draw = ImageDraw.Draw(pil)
    font = _font(font_size)
    tx1, ty1, tx2, ty2 = draw.textbbox((0, 0), text, font=font)
    y = pil.height - (ty2 - ty1) - 3
    draw.rectangle([0, y, tx2 - tx1 + 3, pil.height - 1], fill=(0, 0, 0))
    draw.text((2 - tx1, y + 1 - ty1), text, font=font, fill=(255, 255, 255))
    return np.asarray(pil).copy()


def render_contact_sheet(rows: Sequence[dict],
                         frame_size: Optional[Tuple[int, int]] = None,
                         title: Optional[str] = None,
                         font_size: int = 12,
                         gap: int = 4
                         ) -> Tuple[np.ndarray, List[List[Tuple[int, int]]]]:
    """Lay out rows of frames, each with text below, into one image.

    Args:
        rows: Dicts ``{"frames": [(H, W, 3) uint8 RGB, ...], "text": str}``;
            the text may have several lines and is wrapped to the sheet
            width.
        frame_size: ``(w, h)`` every frame is resized to; default the size
            of the first frame.
        title: Optional line at the top.
        font_size: Text size in pixels.
        gap: Pixels between frames and rows.

    Returns:
        tuple: the sheet, ``(H_sheet, W_sheet, 3)`` uint8 RGB, and per row
        the ``(x, y)`` sheet position of each frame's top-left pixel.
    """
    if not rows:
        raise ValueError('make_contact_sheet needs at least one row')
    first = next((r['frames'][0] for r in rows if len(r['frames'])), None)
    if frame_size is None:
        if first is None:
            raise ValueError('no frames and no frame_size given')
        frame_size = (first.shape[1], first.shape[0])
    fw, fh = int(frame_size[0]), int(frame_size[1])
    ncols = max(len(r['frames']) for r in rows)
    width = gap + ncols * (fw + gap)
    font = _font(font_size)
    line_h = font_size + 4
    # Wrap each text to the sheet width (character count from the average
    # glyph width; good enough for a built-in font).
    char_w = max(font.getlength('abcdefghijklmnopqrstuvwxyz') / 26, 1)
    max_chars = max(int((width - 2 * gap) / char_w), 10)

    def wrap(text):
        lines = []
        for line in str(text).splitlines() or ['']:
            lines.extend(textwrap.wrap(line, max_chars) or [''])
        return lines

    texts = [wrap(r.get('text', '')) for r in rows]
    title_lines = wrap(title) if title else []
    height = gap + len(title_lines) * line_h + sum(
        fh + gap + len(t) * line_h + gap for t in texts)
    sheet = Image.new('RGB', (width, height), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    origins = []
    y = gap
    for line in title_lines:
        draw.text((gap, y), line, font=font, fill=(255, 255, 255))
        y += line_h
    for row, lines in zip(rows, texts):
        origins.append([])
        for c, frame in enumerate(row['frames']):
            im = Image.fromarray(np.asarray(frame, np.uint8), 'RGB')
            if im.size != (fw, fh):
                im = im.resize((fw, fh), Image.NEAREST)
            origins[-1].append((gap + c * (fw + gap), y))
            sheet.paste(im, origins[-1][-1])
        y += fh + gap
        for line in lines:
            draw.text((gap, y), line, font=font, fill=(230, 230, 230))
            y += line_h
        y += gap
    return np.asarray(sheet).copy(), origins


def make_contact_sheet(rows: Sequence[dict],
                       out_path: str,
                       frame_size: Optional[Tuple[int, int]] = None,
                       title: Optional[str] = None,
                       font_size: int = 12,
                       gap: int = 4) -> str:
    """:func:`render_contact_sheet` saved as a PNG at ``out_path`` (parent
    folders are created); returns ``out_path``."""
    sheet, _ = render_contact_sheet(rows, frame_size, title, font_size, gap)
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    Image.fromarray(sheet, 'RGB').save(out_path, format='PNG')
    return out_path


def draw_tracks(img: np.ndarray,
                tracks: Sequence[np.ndarray],
                colors: Sequence[Tuple[int, int, int]],
                labels: Optional[Sequence[str]] = None,
                width: int = 2,
                font_size: int = 10) -> np.ndarray:
    """Draw polylines (e.g. box centres over time) on a copy of an image.

    Args:
        img: ``(H, W, 3)`` uint8 RGB image; not modified.
        tracks: Per track, ``(n, 2)`` ``x, y`` pixel points in time order;
            each point gets a dot, consecutive points a line.
        colors: RGB colour per track.
        labels: Optional text per track, drawn next to its last point.
        width: Line width in pixels.
        font_size: Label text size in pixels.

    Returns:
        np.ndarray: A new ``(H, W, 3)`` uint8 RGB image.
    """
    pil = Image.fromarray(np.asarray(img, np.uint8), 'RGB')
    draw = ImageDraw.Draw(pil)
    font = _font(font_size)
    radius = width + 1
    for k, points in enumerate(tracks):
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not len(points):
            continue
        color = tuple(int(c) for c in colors[k])
        xy = [tuple(p) for p in points]
        if len(xy) > 1:
            draw.line(xy, fill=color, width=width, joint='curve')
        for x, y in xy:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius],
                         fill=color)
        if labels is not None and labels[k]:
            x, y = xy[-1]
            draw.text((x + radius + 1, y - font_size // 2), labels[k],
                      font=font, fill=color)
    return np.asarray(pil).copy()


def save_gif(frames: Sequence[np.ndarray], out_path: str,
             fps: float = 4) -> str:
    """Save ``(H, W, 3)`` uint8 RGB frames as a looping GIF (Pillow only,
    no moviepy); returns ``out_path``."""
    if not len(frames):
        raise ValueError('save_gif needs at least one frame')
    images = [Image.fromarray(np.asarray(f, np.uint8), 'RGB')
              for f in frames]
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    images[0].save(out_path, format='GIF', save_all=True,
                   append_images=images[1:], duration=int(1000 / fps),
                   loop=0, optimize=False)
    return out_path


__all__: List[str] = [
    'draw_boxes', 'draw_tracks', 'label_corner', 'make_contact_sheet',
    'render_contact_sheet', 'save_gif', 'DEFAULT_COLORS'
]
