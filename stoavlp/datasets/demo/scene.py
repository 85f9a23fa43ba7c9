"""Clip specifications and rendering of the demo dataset.

A clip is 1-3 flat coloured shapes on a dark background, each doing one
action. Clips come in groups: a base clip and variants that change exactly
one attribute (the action or the colour) of one object, with the same layout,
the same other objects and the same background, so that retrieval and
multiple choice need the right object *and* the right action.

Coordinates are continuous pixels: pixel column ``i`` covers ``[i, i + 1)``,
so a box over columns 10..19 is ``x1=10, x2=20``. Positions and sizes in a
spec are fractions of the frame, so one spec renders at any frame size.
"""
import math
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

SHAPES = ('circle', 'rectangle', 'triangle', 'star', 'heart')
# Saturated colours far from the grey backgrounds and from each other, so
# the colour of a pixel says which object it belongs to even after H.264.
COLORS: Dict[str, Tuple[int, int, int]] = {
    'red': (225, 40, 40),
    'green': (40, 190, 60),
    'blue': (45, 90, 240),
    'yellow': (240, 220, 40),
    'purple': (150, 55, 215),
    'pink': (250, 125, 195),
}
ACTIONS = ('move_left', 'move_right', 'move_up', 'move_down', 'grow',
           'shrink', 'spin', 'bounce')

# Motion amplitudes, as fractions of the frame. Large enough that 12
# uniformly sampled frames show the action plainly.
TRAVEL_X = 0.38          # horizontal distance of move_left/right
TRAVEL_Y = 0.36          # vertical distance of move_up/down
BOUNCE_HEIGHT = 0.30     # height of a bounce
NUM_BOUNCES = 2
SCALE_RANGE = (0.55, 1.45)   # grow: first -> last frame; shrink: reversed
SPIN_TURNS = 0.75        # not a multiple of any shape's symmetry angle
RADIUS_RANGE = (0.08, 0.12)  # object radius, fraction of min(W, H)
EXTENT = 1.1             # largest vertex radius of the unit shapes
MIN_VISIBLE = 0.3        # less visible than this: no detection


def allowed_actions(shape: str) -> List[str]:
    """Actions a shape can visibly do (a spinning circle looks static)."""
    return [a for a in ACTIONS if not (shape == 'circle' and a == 'spin')]


def _unit_shape(shape: str) -> np.ndarray:
    """``(K, 2)`` polygon of a shape of radius ~1 centred at 0, y down."""
    if shape == 'circle':
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        return np.stack([np.cos(t), np.sin(t)], 1)
    if shape == 'rectangle':
        # Not a square, so that spinning changes its outline a lot.
        return np.array([[-1.0, -0.6], [1.0, -0.6], [1.0, 0.6], [-1.0, 0.6]])
    if shape == 'triangle':
        t = np.deg2rad([-90, 30, 150])
        return 1.05 * np.stack([np.cos(t), np.sin(t)], 1)
    if shape == 'star':
        t = np.deg2rad(-90 + 36 * np.arange(10))
        r = np.where(np.arange(10) % 2 == 0, EXTENT, 0.45)
        return np.stack([r * np.cos(t), r * np.sin(t)], 1)
    if shape == 'heart':
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        x = 16 * np.sin(t)**3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) -
              np.cos(4 * t))
        pts = np.stack([x, y], 1) / 16.0
        return pts - (pts.max(0) + pts.min(0)) / 2   # centre the bounding box
    raise ValueError(f'unknown shape {shape!r}')


UNIT_SHAPES = {s: _unit_shape(s) for s in SHAPES}


# ---------------------------------------------------------------- specs ---
def _sample_layout(rng: np.random.Generator, num: int,
                   size: Tuple[int, int]) -> List[dict]:
    """Anchors (trajectory midpoints) and radii of ``num`` objects.

    Anchors are kept central enough that *every* action stays inside the
    frame, because a variant may give any object any action. Objects start
    apart; occlusions come from motion and growth.
    """
    w, h = size
    m = min(w, h)
    radii = rng.uniform(*RADIUS_RANGE, size=num)
    best, best_gap = None, -np.inf
    for _ in range(200):
        centers = []
        for r in radii:
            rx, ry = r * m / w, r * m / h   # radius as a fraction of W, H
            ext_x = max(EXTENT * SCALE_RANGE[1] * rx,
                        EXTENT * rx + TRAVEL_X / 2)
            ext_y = max(EXTENT * SCALE_RANGE[1] * ry,
                        EXTENT * ry + TRAVEL_Y / 2,
                        EXTENT * ry + BOUNCE_HEIGHT / 2)
            lo_x, lo_y = min(ext_x + 0.02, 0.5), min(ext_y + 0.02, 0.5)
            centers.append([rng.uniform(lo_x, 1 - lo_x),
                            rng.uniform(lo_y, 1 - lo_y)])
        centers = np.array(centers)
        gap = np.inf   # smallest (distance - sum of radii), in pixels
        for i in range(num):
            for j in range(i):
                d = np.hypot((centers[i, 0] - centers[j, 0]) * w,
                             (centers[i, 1] - centers[j, 1]) * h)
                gap = min(gap, d - (radii[i] + radii[j]) * m)
        if gap > best_gap:
            best, best_gap = centers, gap
        if gap >= 0:
            break
    return [dict(center=[round(float(x), 4), round(float(y), 4)],
                 radius=round(float(r), 4))
            for (x, y), r in zip(best, radii)]


def sample_group(seed: int, group: int, group_size: int,
                 size: Tuple[int, int]) -> List[dict]:
    """Specs of one group: a base clip and ``group_size - 1`` variants.

    Depends only on ``(seed, group)`` and the frame size (the layout keeps
    every motion inside the frame), not on the number of clips.

    Returns:
        list[dict]: Clip specs ``{"objects", "background", "variant",
        "changed"}``; ``objects`` are in z-order (last drawn on top).
    """
    rng = np.random.default_rng([seed, 0, group])
    num = int(rng.choice([1, 2, 3], p=[0.25, 0.45, 0.30]))
    shapes = [str(s) for s in rng.choice(SHAPES, num, replace=False)]
    colors = [str(c) for c in rng.choice(list(COLORS), num, replace=False)]
    objects = []
    for z, (shape, color, place) in enumerate(
            zip(shapes, colors, _sample_layout(rng, num, size))):
        objects.append(dict(
            shape=shape, color=color,
            action=str(rng.choice(allowed_actions(shape))), z=z,
            center=place['center'], radius=place['radius'],
            angle=round(float(rng.uniform(0, 360)), 2),
            spin_dir=int(rng.choice([-1, 1]))))
    background = dict(
        gray=int(rng.integers(25, 80)),
        tint=[int(v) for v in rng.integers(-8, 9, size=3)],
        grad_angle=round(float(rng.uniform(0, 360)), 2),
        grad_amp=int(rng.integers(10, 36)),
        noise=round(float(rng.uniform(2, 5)), 2),
        noise_seed=int(rng.integers(2**31)))
    specs = [dict(objects=objects, background=background, variant='base',
                  changed=None)]
    seen = {_signature(objects)}
    for v in range(1, group_size):
        kind = ('action', 'color')[v - 1] if v <= 2 else \
            str(rng.choice(['action', 'color']))
        for _ in range(50):
            objs, changed = _make_variant(rng, objects, kind)
            if _signature(objs) not in seen:
                break
        seen.add(_signature(objs))
        specs.append(dict(objects=objs, background=background, variant=kind,
                          changed=changed))
    return specs


def _signature(objects: Sequence[dict]) -> tuple:
    return tuple((o['shape'], o['color'], o['action']) for o in objects)


def _make_variant(rng: np.random.Generator, objects: Sequence[dict],
                  kind: str) -> Tuple[List[dict], dict]:
    """Change one attribute of one object; the value stays unique."""
    i = int(rng.integers(len(objects)))
    old = objects[i][kind]
    if kind == 'action':
        pool = [a for a in allowed_actions(objects[i]['shape']) if a != old]
    else:
        used = {o['color'] for o in objects}
        pool = [c for c in COLORS if c not in used]
    new = str(rng.choice(pool))
    objs = [dict(o) for o in objects]
    objs[i][kind] = new
    return objs, {'object': i, 'attribute': kind, 'from': old, 'to': new}


# ------------------------------------------------------------ rendering ---
def object_pose(obj: dict, s: float, size: Tuple[int, int]
                ) -> Tuple[float, float, float, float]:
    """Centre, radius and rotation of an object at clip progress ``s``.

    Args:
        obj: Object spec.
        s: Progress in ``[0, 1]`` (first to last frame).
        size: ``(W, H)`` of the frame.

    Returns:
        tuple: ``(cx, cy, radius, angle_deg)`` in pixels / degrees.
    """
    w, h = size
    cx, cy = obj['center'][0] * w, obj['center'][1] * h
    r = obj['radius'] * min(w, h)
    angle = obj['angle']
    a = obj['action']
    if a == 'move_left':
        cx += TRAVEL_X * w * (0.5 - s)
    elif a == 'move_right':
        cx += TRAVEL_X * w * (s - 0.5)
    elif a == 'move_up':
        cy += TRAVEL_Y * h * (0.5 - s)
    elif a == 'move_down':
        cy += TRAVEL_Y * h * (s - 0.5)
    elif a == 'bounce':
        amp = BOUNCE_HEIGHT * h
        cy += amp / 2 - amp * abs(math.sin(math.pi * NUM_BOUNCES * s))
    elif a == 'grow':
        r *= SCALE_RANGE[0] + (SCALE_RANGE[1] - SCALE_RANGE[0]) * s
    elif a == 'shrink':
        r *= SCALE_RANGE[1] - (SCALE_RANGE[1] - SCALE_RANGE[0]) * s
    elif a == 'spin':
        angle += obj['spin_dir'] * 360.0 * SPIN_TURNS * s
    return cx, cy, r, angle


def _shape_mask(shape: str, pose: tuple, size: Tuple[int, int]) -> np.ndarray:
    cx, cy, r, angle = pose
    t = math.radians(angle)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    pts = UNIT_SHAPES[shape] @ rot.T * r + [cx, cy]
    # OpenCV puts pixel centres on integer coordinates (ours at i + 0.5);
    # 4 fractional bits keep sub-pixel motion smooth. No anti-aliasing, so
    # the mask, the drawn pixels and the box agree exactly.
    pts = np.round((pts - 0.5) * 16).astype(np.int32)
    mask = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(mask, [pts], 1, cv2.LINE_8, 4)
    return mask.view(bool)


def render_background(bg: dict, size: Tuple[int, int]) -> np.ndarray:
    """``(H, W, 3)`` uint8 gradient with static noise (same every frame)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = math.radians(bg['grad_angle'])
    proj = (xx / w - 0.5) * math.cos(t) + (yy / h - 0.5) * math.sin(t)
    img = bg['gray'] + bg['grad_amp'] * proj[..., None] + \
        np.asarray(bg['tint'], np.float32)
    noise = np.random.default_rng(bg['noise_seed']).normal(
        0, bg['noise'], size=(h, w, 1)).astype(np.float32)
    return np.clip(np.round(img + noise), 0, 255).astype(np.uint8)


def render_clip(spec: dict, num_frames: int, size: Tuple[int, int]
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render a clip and its exact boxes.

    Args:
        spec: Clip spec from :func:`sample_group`.
        num_frames: ``T``.
        size: ``(W, H)``.

    Returns:
        tuple: ``frames (T, H, W, 3) uint8 RGB``, ``boxes (T, N, 4) int``
        tight boxes of each whole shape (occluded parts included; ``-1`` when
        the shape is entirely outside the frame) and ``visible (T, N)``, the
        fraction of each shape's pixels not covered by shapes above it.
    """
    w, h = size
    objects = spec['objects']
    n = len(objects)
    bg = render_background(spec['background'], size)
    frames = np.empty((num_frames, h, w, 3), np.uint8)
    boxes = np.full((num_frames, n, 4), -1, np.int64)
    visible = np.zeros((num_frames, n), np.float64)
    colors = [np.array(COLORS[o['color']], np.uint8) for o in objects]
    for t in range(num_frames):
        s = t / max(num_frames - 1, 1)
        frame = bg.copy()
        masks = []
        for i, obj in enumerate(objects):   # z-order: later on top
            mask = _shape_mask(obj['shape'], object_pose(obj, s, size), size)
            frame[mask] = colors[i]
            masks.append(mask)
            rows, cols = np.flatnonzero(mask.any(1)), \
                np.flatnonzero(mask.any(0))
            if len(rows):
                boxes[t, i] = [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]
        cover = np.zeros((h, w), bool)
        for i in range(n - 1, -1, -1):
            area = masks[i].sum()
            if area:
                visible[t, i] = (masks[i] & ~cover).sum() / area
            cover |= masks[i]
        frames[t] = frame
    return frames, boxes, visible


def make_detections(objects: Sequence[dict], boxes: np.ndarray,
                    visible: np.ndarray, size: Tuple[int, int],
                    rng: np.random.Generator,
                    fp_rate: float = 0.1) -> Tuple[List[List[dict]],
                                                   List[List[int]]]:
    """Simulated detector output from the true boxes.

    True boxes get +-1 px jitter and a per-object confidence in
    ``[0.55, 0.99]`` lowered for partly hidden objects; objects less than
    ``MIN_VISIBLE`` visible are missed. Some frames get one false positive
    (random box and class, confidence 0.1-0.45).

    Returns:
        tuple: per-frame lists of ``{"class", "rect", "conf"}`` sorted by
        confidence, and per frame the object index of each entry (-1 for a
        false positive), for drawing.
    """
    w, h = size
    m = min(w, h)
    base_conf = rng.uniform(0.72, 0.95, size=len(objects))
    frames, owners = [], []
    for t in range(boxes.shape[0]):
        dets = []
        for i, obj in enumerate(objects):
            jitter = rng.uniform(-1, 1, size=4)
            conf_noise = rng.normal(0, 0.03)
            vis = visible[t, i]
            if boxes[t, i, 0] < 0 or vis < MIN_VISIBLE:
                continue
            conf = float(np.clip(base_conf[i] + conf_noise, 0.55, 0.99))
            if vis < 0.6:   # partly hidden: less sure
                conf = 0.55 + (conf - 0.55) * (vis - MIN_VISIBLE) / 0.3
            x1, y1, x2, y2 = boxes[t, i] + jitter
            x1, x2 = np.clip([x1, x2], 0, w)
            y1, y2 = np.clip([y1, y2], 0, h)
            dets.append((conf, i, [x1, y1, max(x2, x1 + 1), max(y2, y1 + 1)],
                         obj['shape']))
        # Drawn even when unused, so the stream does not depend on fp_rate.
        fp = rng.uniform(size=7)
        if fp[0] < fp_rate:
            bw, bh = (0.06 + 0.14 * fp[1]) * m, (0.06 + 0.14 * fp[2]) * m
            x1, y1 = fp[3] * (w - bw), fp[4] * (h - bh)
            dets.append((0.1 + 0.35 * fp[5], -1, [x1, y1, x1 + bw, y1 + bh],
                         SHAPES[int(fp[6] * len(SHAPES))]))
        dets.sort(key=lambda d: -d[0])
        frames.append([{'class': name,
                        'rect': [round(float(v), 2) for v in rect],
                        'conf': round(float(conf), 4)}
                       for conf, _, rect, name in dets])
        owners.append([i for _, i, _, _ in dets])
    return frames, owners
