"""The full training pipeline on raw 720p clips vs their compressed copies,
for each decoding backend (decord, PyAV, torchcodec).

    OMP_NUM_THREADS=1 python tools/analysis_tools/benchmark_data_pipeline.py
        [--clips 8] [--loops 3] [--repeat 2] [--short-side 224]
        [--max-fps 10]

``--clips`` demo clips (``data/demo``, 160x120, 10 fps, 3.2 s) are played
``--loops`` times (9.6 s by default, about an MSR-VTT clip) and upscaled to
1280x720 at 30 fps (each frame shown 3 times, H.264 CRF 17 with a keyframe
every 30 frames, like a downloaded web video), with their detection files
moved to the new frame numbering (``video_frames`` recorded, as
``tools/data/extract_objects.py`` writes). Then
``tools/data/compress_videos.py`` makes the compressed copies. The timed
pipeline is the paper's training pipeline as the configs build it
(``configs/_base_/datasets/pipelines/u12_224*.py``: 12 frames, resize and
centre crop to 224, detections ON, CLIP tokens with the noun/verb masks from
a POS cache) in this one process, i.e. per dataloader worker. Raw and
compressed passes alternate; the best of ``--repeat`` passes is kept.
Prints clips/s per worker and the raw -> compressed speed-up (goal >= 3x).
A backend whose config or library is missing is listed as skipped.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time

import numpy as np
from mmengine.config import Config
from mmengine.dataset import Compose

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools', 'data'))

from stoavlp.utils import register_all_modules  # noqa: E402

PIPELINES = osp.join(ROOT, 'configs', '_base_', 'datasets', 'pipelines')
BACKENDS = {'decord': ('u12_224.py', 'decord'),
            'PyAV': ('u12_224_pyav.py', 'av'),
            'torchcodec': ('u12_224_torchcodec.py', 'torchcodec')}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--demo', default=osp.join(ROOT, 'data', 'demo'))
    parser.add_argument('--clips', type=int, default=8)
    parser.add_argument('--loops', type=int, default=3)
    parser.add_argument('--repeat', type=int, default=2)
    parser.add_argument('--short-side', type=int, default=224)
    parser.add_argument('--max-fps', type=float, default=10)
    parser.add_argument('--work-dir', default=None,
                        help='reuse the clips of an earlier run')
    return parser.parse_args()


def make_raw_clips(demo, num, loops, out):
    """Upscale ``num`` demo clips to 720p/30 fps, each played ``loops``
    times; returns the pipeline items."""
    import cv2
    from tqdm import tqdm

    from stoavlp.datasets.demo.video import write_mp4
    from stoavlp.datasets.detection_files import (Detections,
                                                  read_detections,
                                                  write_detections)
    meta = json.load(open(osp.join(demo, 'meta.json')))
    os.makedirs(osp.join(out, 'raw'), exist_ok=True)
    items = []
    for clip in tqdm(meta['clips'][:num], desc='upscale', unit='clip'):
        vid = clip['video_id']
        video = osp.join(out, 'raw', f'{vid}.mp4')
        dets_path = osp.join(out, f'{vid}.npz')
        if not osp.isfile(video):
            import av
            with av.open(osp.join(demo, clip['video'])) as c:
                small = [f.to_ndarray(format='rgb24')
                         for f in c.decode(video=0)]
            big = np.stack([cv2.resize(f, (1280, 720),
                                       interpolation=cv2.INTER_LINEAR)
                            for f in small])
            write_mp4(video, np.tile(np.repeat(big, 3, axis=0),
                                     (loops, 1, 1, 1)), fps=30)
            dets = read_detections(osp.join(demo, clip['detections']))
            inds = dets.video_frame_inds(len(small))
            write_detections(dets_path, Detections.from_frames(
                dets.to_frames() * loops,
                frame_inds=np.concatenate(
                    [3 * (inds + k * len(small)) for k in range(loops)]),
                image_size=dets.image_size,
                video_frames=3 * len(small) * loops))
        items.append(dict(filename=video, objects_path=dets_path,
                          text=clip['captions'][0], start_index=0,
                          modality='RGB'))
    return items


def pos_cache(items, path):
    """The POS cache ``tools/data/pos_tag.py`` writes, for the captions."""
    if not osp.isfile(path):
        from stoavlp.datasets.text import SpacyPOSTagger
        texts = [it['text'] for it in items]
        with open(path, 'w') as f:
            for text, tags in zip(texts, SpacyPOSTagger().tag_many(texts)):
                f.write(json.dumps(dict(text=text, tags=tags)) + '\n')
    return path


def build(config, cache):
    pipeline = Config.fromfile(osp.join(PIPELINES, config)).train_pipeline
    for step in pipeline:
        if step['type'] == 'TokenizeText':
            step['pos_tagger'] = dict(type='SpacyPOSTagger', cache_file=cache)
    return Compose(pipeline)


def seconds(pipeline, items):
    start = time.perf_counter()
    for item in items:
        pipeline(dict(item))
    return time.perf_counter() - start


def main():
    args = parse_args()
    register_all_modules()
    import compress_videos
    work = args.work_dir or tempfile.mkdtemp(prefix='compress_bench_')
    raw = make_raw_clips(args.demo, args.clips, args.loops, work)
    compress_videos.main([osp.join(work, 'raw'), osp.join(work, 'small'),
                          '--short-side', str(args.short_side),
                          '--max-fps', str(args.max_fps)])
    small = [dict(it, filename=osp.join(work, 'small',
                                        osp.basename(it['filename'])))
             for it in raw]
    cache = pos_cache(raw, osp.join(work, 'pos_tags.jsonl'))

    def size(clips):  # MiB
        return sum(osp.getsize(it['filename']) for it in clips) / 2**20

    print(f'{len(raw)} clips of {3.2 * args.loops:g} s: raw 1280x720 30 fps '
          f'{size(raw):.1f} MiB, '
          f'compressed short side {args.short_side} <= {args.max_fps:g} fps '
          f'{size(small):.1f} MiB ({work})')
    rows = []
    for name, (config, module) in BACKENDS.items():
        try:
            __import__(module)
            pipeline = build(config, cache)
        except (ImportError, FileNotFoundError, OSError, KeyError) as e:
            rows.append((name, None, None, f'skipped ({type(e).__name__}: '
                         f'{str(e)[:60]})'))
            continue
        seconds(pipeline, raw[:1] + small[:1])  # warm-up: decoder, tokenizer
        best = {'raw': float('inf'), 'small': float('inf')}
        for _ in range(args.repeat):
            best['raw'] = min(best['raw'], seconds(pipeline, raw))
            best['small'] = min(best['small'], seconds(pipeline, small))
        rows.append((name, len(raw) / best['raw'], len(small) / best['small'],
                     ''))
    print('\n| backend    | raw clips/s | compressed clips/s | speed-up |')
    print('|------------|-------------|--------------------|----------|')
    for name, r, c, note in rows:
        if r is None:
            print(f'| {name:<10} | {note} |')
        else:
            print(f'| {name:<10} | {r:11.2f} | {c:18.2f} | {c / r:7.1f}x |')
    print('\nclips/s per worker (one process, OMP_NUM_THREADS='
          f'{os.environ.get("OMP_NUM_THREADS", "unset")}); goal >= 3x')


if __name__ == '__main__':
    main()
