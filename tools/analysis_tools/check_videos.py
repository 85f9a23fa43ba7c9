"""Scan a dataset's videos before training (mmaction2 #1001): which cannot
be decoded, are too short for the sampler, or lack a readable detection
file.

    python tools/analysis_tools/check_videos.py CONFIG [--phase train]
        [--workers 8] [--out bad_videos.json] [--cfg-options k=v]

Each video of ``<phase>_dataloader``'s dataset (once, however many captions
it has) goes through the config's own reading steps: the pipeline up to its
last decoding transform, samplers in test mode, with the dataset's
``min_frames`` check (``GuardedPipeline``), then its detection file through
the reader the training uses. In parallel worker processes, with a progress
bar. Prints a summary by problem and writes the bad videos to ``--out``
(``[{video_id, path, problem, reason}]``, an empty list when all are fine).
"""
import argparse
import json
import multiprocessing
import os.path as osp
from collections import Counter

from mmengine.config import Config, DictAction

_PIPELINE = None  # the reading steps, built once per worker


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='dataset or model config')
    parser.add_argument('--phase', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--out', default='bad_videos.json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def reading_steps(pipeline):
    """The transforms of ``pipeline`` up to its last reader (video decoding
    and frame sampling), samplers in test mode (deterministic)."""
    from stoavlp.datasets.bad_samples import READER_TRANSFORMS
    names = [t['type'] for t in pipeline]
    last = max((i for i, n in enumerate(names) if n in READER_TRANSFORMS),
               default=-1)
    if last < 0:
        raise SystemExit(f'the pipeline decodes no video: {names}')
    steps = []
    for transform in pipeline[:last + 1]:
        transform = dict(transform)
        if 'test_mode' in transform:
            transform['test_mode'] = True
        steps.append(transform)
    return steps, 'LoadObjectDetections' in names


def _init_worker(steps, min_frames):
    global _PIPELINE
    from stoavlp.datasets.bad_samples import GuardedPipeline
    from stoavlp.utils import register_all_modules
    register_all_modules()
    _PIPELINE = GuardedPipeline(steps, min_frames=min_frames)


def check_one(item):
    """``None`` for a good video, else ``{video_id, path, problem,
    reason}``."""
    from stoavlp.datasets.bad_samples import BadSampleError
    from stoavlp.datasets.detection_files import (DetectionFileError,
                                                  read_detections)
    info, check_objects = item
    path = info['filename']
    bad = dict(video_id=info.get('video_id'), path=path)
    if not osp.isfile(path):
        return dict(bad, problem='missing video', reason='no such file')
    try:
        _PIPELINE(dict(info, modality='RGB', start_index=0))
    except BadSampleError as err:
        problem = 'too short' if 'fewer than the' in err.reason else \
            'undecodable'
        return dict(bad, problem=problem, reason=err.reason)
    except Exception as err:  # noqa: BLE001 (reported, not raised)
        return dict(bad, problem='undecodable',
                    reason=f'{type(err).__name__}: {err}')
    if check_objects and info.get('objects_path'):
        objects = info['objects_path']
        if not osp.isfile(objects):
            return dict(bad, problem='missing detection file',
                        reason=objects)
        try:
            read_detections(objects)
        except DetectionFileError as err:
            return dict(bad, problem='malformed detection file',
                        reason=err.reason)
    return None


def main(argv=None):
    args = parse_args(argv)
    from tqdm import tqdm

    from stoavlp.registry import DATASETS
    from stoavlp.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader = cfg.get(f'{args.phase}_dataloader')
    if not loader:
        raise SystemExit(f'{args.config} has no {args.phase}_dataloader')
    dataset = DATASETS.build(dict(loader['dataset'], lazy_init=False))
    steps, check_objects = reading_steps(loader['dataset']['pipeline'])
    items, seen = [], set()
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        if info['filename'] not in seen:
            seen.add(info['filename'])
            items.append((info, check_objects))
    min_frames = loader['dataset'].get('min_frames')
    with multiprocessing.get_context('fork').Pool(
            max(1, args.workers), _init_worker,
            (steps, min_frames)) as pool:
        found = [r for r in tqdm(pool.imap_unordered(check_one, items,
                                                     chunksize=4),
                                 total=len(items), desc='videos')
                 if r is not None]
    found.sort(key=lambda r: r['path'])
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(found, f, indent=1)
    counts = Counter(r['problem'] for r in found)
    summary = ', '.join(f'{n} {p}' for p, n in sorted(counts.items()))
    print(f'{len(items)} videos checked: {len(found)} bad'
          + (f' ({summary})' if found else '') + f'; list: {args.out}')
    return found


if __name__ == '__main__':
    main()
