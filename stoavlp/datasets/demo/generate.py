"""Generate the embedded demo dataset (videos + all annotation formats).

See :func:`make_demo_dataset`. The heavy part, rendering and encoding one
clip, is :func:`_make_clip`, a pure function of ``(params, index)`` run in
worker processes; everything that needs all clips (splits, multiple choice,
annotation files) happens afterwards in the parent.
"""
import functools
import json
import multiprocessing
import os
import os.path as osp
import re
import time
from typing import List, Optional, Sequence, Tuple

import numpy as np

from stoavlp.datasets.detection_files import Detections, write_detections
from . import captions as cap_lib
from . import writer
from .scene import (ACTIONS, COLORS, SHAPES, make_detections, render_clip,
                    sample_group)
from .video import write_mp4

#: Bump when the content for the same parameters changes; a dataset made by
#: another version is regenerated.
VERSION = 4
SPLIT_FRACTIONS = {'test': 0.22, 'validate': 0.08}   # of groups; rest train
SHEET_ROWS, SHEET_FRAMES = 6, 6


def _params(num_clips, seed, num_frames, size, fps, num_captions,
            group_size) -> dict:
    w, h = (int(v) for v in size)
    if w % 2 or h % 2:
        raise ValueError(f'size must be even for yuv420p, got {w}x{h}')
    if num_clips < 1 or num_frames < 2 or group_size < 1 or fps < 1:
        raise ValueError('num_clips, group_size, fps must be >= 1 and '
                         'num_frames >= 2')
    return dict(version=VERSION, seed=int(seed), num_clips=int(num_clips),
                num_frames=int(num_frames), size=[w, h], fps=int(fps),
                num_captions=int(num_captions), group_size=int(group_size))


def split_groups(num_groups: int) -> List[str]:
    """Split of every group: train first, then validate, test last.

    Whole groups go to one split, so the test split holds its own hard
    negatives, and video ids are contiguous per split with test last (like
    MSR-VTT's video7010..video9999).
    """
    n_test = max(1, round(SPLIT_FRACTIONS['test'] * num_groups)) \
        if num_groups > 1 else 0
    n_val = max(1, round(SPLIT_FRACTIONS['validate'] * num_groups)) \
        if num_groups > 2 else 0
    n_train = num_groups - n_test - n_val
    return ['train'] * n_train + ['validate'] * n_val + ['test'] * n_test


@functools.lru_cache(maxsize=8)
def _group_specs(seed, group, group_size, size):
    return sample_group(seed, group, group_size, size)


def _make_clip(task: Tuple[dict, str, int]) -> dict:
    """Render, encode and annotate clip ``index``; returns its record."""
    params, out, index = task
    seed, g_size = params['seed'], params['group_size']
    size, T = tuple(params['size']), params['num_frames']
    group, variant = divmod(index, g_size)
    spec = _group_specs(seed, group, g_size, size)[variant]
    vid = f'video{index}'

    frames, boxes, visible = render_clip(spec, T, size)
    write_mp4(osp.join(out, 'videos', f'{vid}.mp4'), frames, params['fps'])
    det_frames, _ = make_detections(spec['objects'], boxes, visible, size,
                                    np.random.default_rng([seed, 1, index]))
    write_detections(
        osp.join(out, 'objects', f'{vid}.json'),
        Detections.from_frames(det_frames, frame_inds=list(range(T)),
                               image_size=size, video_frames=T))
    gt = dict(video_id=vid, image_size=list(size), frame_inds=list(range(T)),
              objects=[dict(object=i, shape=o['shape'], color=o['color'],
                            action=o['action'], z=o['z'],
                            boxes=boxes[:, i].tolist(),
                            visible=np.round(visible[:, i], 3).tolist())
                       for i, o in enumerate(spec['objects'])])
    writer.write_json(osp.join(out, 'gt_boxes', f'{vid}.json'), gt)

    rng = np.random.default_rng([seed, 2, index])
    caps = cap_lib.make_captions(spec['objects'], rng,
                                 params['num_captions'])
    sentences = cap_lib.object_sentences(spec['objects'], rng)
    sentences.append(caps[min(1, len(caps) - 1)]['caption'])
    return dict(
        video_id=vid, index=index, group=group, variant=spec['variant'],
        base=f'video{group * g_size}', changed=spec['changed'],
        objects=spec['objects'], background=spec['background'],
        captions=[c['caption'] for c in caps],
        caption_styles=[c['style'] for c in caps], sentences=sentences,
        qa=cap_lib.make_qa(spec['objects']),
        video=f'videos/{vid}.mp4', detections=f'objects/{vid}.json',
        gt_boxes=f'gt_boxes/{vid}.json',
        num_detections=sum(len(f) for f in det_frames))


def _make_mc(clips: Sequence[dict], seed: int,
             split: str = 'test') -> List[dict]:
    """Multiple-choice items of a split's clips (true caption =
    JSFusion's)."""
    vocab = dict(shapes=list(SHAPES), colors=list(COLORS),
                 actions=list(ACTIONS))
    items = []
    for c in clips:
        if c['split'] != split:
            continue
        others = [o['captions'][0] for o in clips if o['group'] != c['group']]
        mc = cap_lib.make_mc(
            dict(caption=c['captions'][0], style=c['caption_styles'][0]),
            c['objects'], others, np.random.default_rng([seed, 3, c['index']]),
            vocab)
        items.append(dict(video=f"{c['video_id']}.mp4", **mc))
    return items


def _is_complete(out: str, params: dict) -> bool:
    try:
        with open(osp.join(out, 'meta.json'), encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    if meta.get('params') != params:
        return False
    paths = list(meta.get('files', []))
    for c in meta.get('clips', []):
        paths += [c['video'], c['detections'], c['gt_boxes']]
    return all(osp.isfile(osp.join(out, p)) for p in paths)


def _remove_stale(out: str, num_clips: int) -> None:
    """Delete clip files of an earlier, larger dataset (ours by name only)."""
    for sub, ext in (('videos', 'mp4'), ('objects', 'json'),
                     ('gt_boxes', 'json')):
        folder = osp.join(out, sub)
        if not osp.isdir(folder):
            continue
        for name in os.listdir(folder):
            m = re.fullmatch(rf'video(\d+)\.{ext}', name)
            if m and int(m.group(1)) >= num_clips:
                os.remove(osp.join(folder, name))


def make_demo_dataset(out_dir: str = 'data/demo',
                      num_clips: int = 320,
                      seed: int = 0,
                      num_frames: int = 32,
                      size: Tuple[int, int] = (160, 120),
                      fps: int = 10,
                      num_captions: int = 6,
                      group_size: int = 4,
                      contact_sheet: bool = True,
                      workers: int = 1,
                      force: bool = False,
                      progress: bool = False) -> dict:
    """Write the synthetic shapes dataset in all supported file layouts.

    Deterministic: the same arguments give byte-identical files (videos
    included). A clip's content depends only on ``(seed, index)`` and the
    video parameters; the number of clips only moves the split borders.

    Args:
        out_dir: Output folder (created).
        num_clips: Number of clips; groups of ``group_size`` consecutive
            clips share a layout (base clip + one-attribute variants).
        seed: Random seed.
        num_frames: Frames per clip.
        size: ``(W, H)``, both even.
        fps: Frame rate.
        num_captions: Paraphrases per clip.
        group_size: Clips per group (base + ``group_size - 1`` variants).
        contact_sheet: Also write ``contact_sheet.png``.
        workers: Worker processes for rendering/encoding (1: in-process).
        force: Regenerate even if ``out_dir`` already holds a complete
            dataset made with the same parameters.
        progress: Show a tqdm progress bar.

    Returns:
        dict: ``out_dir``, ``skipped`` (True when an existing dataset was
        reused), ``seconds``, ``params``, ``splits`` (clips per split) and
        ``files`` (annotation files, relative to ``out_dir``).
    """
    start = time.perf_counter()
    params = _params(num_clips, seed, num_frames, size, fps, num_captions,
                     group_size)
    out = str(out_dir)
    if not force and _is_complete(out, params):
        with open(osp.join(out, 'meta.json'), encoding='utf-8') as f:
            meta = json.load(f)
        if contact_sheet and not osp.isfile(osp.join(out,
                                                     'contact_sheet.png')):
            _write_sheet(out, meta['clips'], params)
        return dict(out_dir=out, skipped=True,
                    seconds=time.perf_counter() - start, params=params,
                    splits=meta['splits'], files=meta['files'])
    os.makedirs(out, exist_ok=True)
    if osp.exists(osp.join(out, 'meta.json')):
        # meta.json marks a complete dataset; drop it before overwriting.
        os.remove(osp.join(out, 'meta.json'))
    for sub in ('videos', 'objects', 'gt_boxes'):
        os.makedirs(osp.join(out, sub), exist_ok=True)

    tasks = [(params, out, i) for i in range(num_clips)]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=num_clips, desc='demo clips', unit='clip')
    clips = []
    if workers > 1:
        ctx = multiprocessing.get_context(
            'fork' if 'fork' in multiprocessing.get_all_start_methods()
            else None)
        with ctx.Pool(workers) as pool:
            for rec in pool.imap(_make_clip, tasks, chunksize=4):
                clips.append(rec)
                bar is not None and bar.update(1)
    else:
        for task in tasks:
            clips.append(_make_clip(task))
            bar is not None and bar.update(1)
    if bar is not None:
        bar.close()
    _remove_stale(out, num_clips)

    num_groups = -(-num_clips // group_size)
    group_split = split_groups(num_groups)
    for c in clips:
        c['split'] = group_split[c['group']]
    duration = round(num_frames / fps, 3)
    info = dict(contributor='stoavlp demo generator',
                description='Synthetic coloured shapes doing one action '
                'each; a stand-in for MSR-VTT.',
                version=f'demo-{VERSION}', seed=params['seed'])
    files = writer.write_msrvtt(out, clips, duration, info)
    files += writer.write_msrvtt_qa(out, clips)
    files += writer.write_msrvtt_mc(out, _make_mc(clips, params['seed']))
    # the same items for the validation and training clips: pre-training
    # validation measures VTM against one-attribute edits on them, and the
    # mechanism probes are fitted on training clips
    for split, name in (('validate', 'val'), ('train', 'train')):
        files += writer.write_msrvtt_mc(
            out, _make_mc(clips, params['seed'], split), split=name)
    files += writer.write_webvid(out, clips, duration)
    files += writer.write_msvd(out, clips)
    files += writer.write_lsmdc(out, clips, duration)
    files += writer.write_didemo(out, clips)
    splits = {s: sum(c['split'] == s for c in clips)
              for s in ('train', 'validate', 'test')}
    meta = dict(
        generator='stoavlp.datasets.demo', params=params,
        shapes=list(SHAPES),
        colors={k: list(v) for k, v in COLORS.items()},
        actions=list(ACTIONS),
        splits=splits, files=files,
        clips=[{k: c[k] for k in (
            'video_id', 'index', 'split', 'group', 'variant', 'base',
            'changed', 'objects', 'background', 'captions', 'sentences',
            'video', 'detections', 'gt_boxes', 'num_detections')}
            for c in clips])
    if contact_sheet:
        _write_sheet(out, meta['clips'], params)
    # Written last: its presence with matching params marks completeness.
    writer.write_json(osp.join(out, 'meta.json'), meta, indent=1)
    return dict(out_dir=out, skipped=False,
                seconds=time.perf_counter() - start, params=params,
                splits=splits, files=files)


def _write_sheet(out: str, clips: Sequence[dict], params: dict,
                 rows: int = SHEET_ROWS, cols: int = SHEET_FRAMES,
                 scale: int = 2) -> Optional[str]:
    """Contact sheet of the first clips, drawn from the *encoded* videos.

    Decoding the mp4 (not the rendered arrays) shows what readers get.
    Boxes are the detections: one colour per object class of the clip,
    grey for low-confidence (false positive) boxes.
    """
    import av

    from stoavlp.datasets.detection_files import read_detections
    from stoavlp.visualization import draw_boxes, make_contact_sheet
    palette = [(255, 255, 255), (0, 255, 255), (255, 0, 255)]
    sheet_rows = []
    for c in clips[:rows]:
        with av.open(osp.join(out, c['video'])) as container:
            frames = [f.to_ndarray(format='rgb24')
                      for f in container.decode(video=0)]
        dets = read_detections(osp.join(out, c['detections']))
        color_of = {o['shape']: palette[i % len(palette)]
                    for i, o in enumerate(c['objects'])}
        inds = np.linspace(0, len(frames) - 1, cols).round().astype(int)
        drawn = []
        for t in inds:
            img = np.repeat(np.repeat(frames[t], scale, 0), scale, 1)
            sel = dets.frames == t
            names = [dets.classes[k] for k in dets.labels[sel]]
            scores = dets.scores[sel]
            colors = [color_of.get(n, (128, 128, 128)) if s >= 0.5 else
                      (128, 128, 128) for n, s in zip(names, scores)]
            labels = [f'{n} {s:.2f}' for n, s in zip(names, scores)]
            drawn.append(draw_boxes(img, dets.boxes[sel] * scale, labels,
                                    colors, thickness=1, font_size=9))
        head = f"{c['video_id']} [{c['split']}] group {c['group']} " \
            f"{c['variant']}"
        if c['changed']:
            ch = c['changed']
            head += (f" of {c['base']}: object {ch['object']} "
                     f"{ch['attribute']} {ch['from']} -> {ch['to']}")
        sheet_rows.append(dict(frames=drawn,
                               text=f"{head}\n{c['captions'][0]}"))
    w, h = params['size']
    title = (f"stoavlp demo: seed {params['seed']}, {params['num_clips']} "
             f"clips, {params['num_frames']} frames {w}x{h} @ "
             f"{params['fps']} fps; frames {inds.tolist()}; boxes = "
             'detections (grey: conf < 0.5)')
    return make_contact_sheet(sheet_rows, osp.join(out, 'contact_sheet.png'),
                              title=title)
