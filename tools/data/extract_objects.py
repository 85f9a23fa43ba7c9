"""Detect objects on the uniformly sampled frames of videos with mmdet.

Writes one detection file per video in the format stoavlp's datasets read
(:mod:`stoavlp.datasets.detection_files`), mirroring the video's path
relative to the video folder: ``videos/a/b.mp4`` -> ``OUT/a/b.npz``.

Examples::

    # every video under a folder, 12 frames per video, top 10 boxes a frame
    python tools/data/extract_objects.py DET_CONFIG DET_CHECKPOINT \\
        --videos data/msrvtt/videos --out data/msrvtt/objects

    # the videos of an annotation file, 4 processes, JSON output
    python tools/data/extract_objects.py DET_CONFIG DET_CHECKPOINT \\
        --ann data/msrvtt/MSRVTT_data.json --video-root data/msrvtt/videos \\
        --out data/msrvtt/objects --workers 4 --format json

    # every video of a dataset config (your corpus, WebVid, ...), each
    # file written where the dataset (and make_shards.py) reads it
    python tools/data/extract_objects.py DET_CONFIG DET_CHECKPOINT \
        --dataset-config configs/_base_/datasets/video_text_corpus.py

    # one shard per rank or slurm array task on a cluster (RANK/WORLD_SIZE,
    # SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or SLURM_PROCID/
    # SLURM_NTASKS are read from the environment), or explicitly:
    ... --shard 3/16

Each video's frames are decoded with mmaction2's ``DecordInit`` /
``DecordDecode`` at the centres of ``--num-frames`` equal segments (the
frames the datasets align detections to) and run through the detector in
batches of ``--batch-size`` frames. Boxes are in pixels of the decoded
frames (``image_size`` is stored); class names come from the detector's
``dataset_meta`` (checkpoint meta, else the config's ``metainfo``).

Resumable: finished videos are skipped (files are written under a temporary
name and renamed, so a killed run never leaves a half-written file). A video
that cannot be decoded is logged with its path and reason, counted, listed
in ``OUT/_extract_logs/failed.<shard>.txt`` and retried on the next run.

mmdet detectors need full mmcv (compiled ops); with mmcv-lite the tool says
so and points to ``tools/install_mmcv_full.sh``. The detector checkpoint is
external data: it is read with ``weights_only=True``.
"""
import argparse
import csv
import glob
import json
import logging
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

from mmengine.config import DictAction  # noqa: E402

from stoavlp.datasets.base import VIDEO_EXTS  # noqa: E402
from stoavlp.datasets.detection_files import write_detections  # noqa: E402
from stoavlp.datasets.detector import (MMCV_FULL_HINT,  # noqa: E402,F401
                                       FrameDetector, decode_frames,
                                       detect_frames)

logger = logging.getLogger('extract_objects')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Detect objects on sampled video frames with mmdet.')
    parser.add_argument('config', help='mmdet detector config')
    parser.add_argument('checkpoint', help='mmdet detector checkpoint')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--videos', help='a folder searched for videos')
    src.add_argument('--ann', help='annotation file listing videos (.json '
                     'MSRVTT_data/list, .csv with video_id/videoid, .txt)')
    src.add_argument('--dataset-config', help='a dataset or training config: '
                     'every video of its dataset, each file written at the '
                     "item's objects_path (what the dataset and "
                     'make_shards.py read); --out then only holds the logs')
    parser.add_argument('--dataset-key', default='train_dataloader',
                        help='the dataloader of --dataset-config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of --dataset-config')
    parser.add_argument('--video-root', default='',
                        help='folder that --ann names are relative to')
    parser.add_argument('--video-ext', default='.mp4',
                        help='added to --ann names without an extension')
    parser.add_argument('--out', help='output folder (default with '
                        '--dataset-config: its objects folder)')
    parser.add_argument('--format', choices=('npz', 'json'), default='npz')
    parser.add_argument('--num-frames', type=int, default=12)
    parser.add_argument('--topk', type=int, default=10,
                        help='boxes kept per frame (highest scores)')
    parser.add_argument('--score-thr', type=float, default=0.0)
    parser.add_argument('--batch-size', type=int, default=12,
                        help='frames per detector forward')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes on this machine (one detector each)')
    parser.add_argument('--shard', help='K/N: process shard K of N (default '
                        'from RANK/WORLD_SIZE, SLURM_ARRAY_TASK_ID/'
                        'SLURM_ARRAY_TASK_COUNT or SLURM_PROCID/SLURM_NTASKS)')
    args = parser.parse_args(argv)
    if args.out is None and not args.dataset_config:
        parser.error('--out is required with --videos or --ann')
    return args


# --- the video list -------------------------------------------------------
def _name_with_ext(name: str, ext: str) -> str:
    return name if osp.splitext(name)[1].lower() in VIDEO_EXTS else name + ext


def dataset_targets(args) -> Dict[str, str]:
    """``{video path: detection file path}`` of every item of the dataset
    of ``--dataset-config`` (built without its pipeline)."""
    from mmengine.config import Config

    from stoavlp.registry import DATASETS
    from stoavlp.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(args.dataset_config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset_cfg = cfg[args.dataset_key]['dataset'].copy()
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    targets = {}
    for i in range(len(dataset)):
        item = dataset.get_data_info(i)
        dst = item['objects_path']
        if osp.splitext(dst)[1] not in ('.json', '.npz'):
            raise ValueError(f'{args.dataset_config}: objects_path {dst} of '
                             f'{item["filename"]} is neither .json nor .npz '
                             '(set the dataset\'s objects_ext)')
        known = targets.setdefault(item['filename'], dst)
        if known != dst:
            raise ValueError(f'{args.dataset_config}: {item["filename"]} has '
                             f'two detection files ({known}, {dst})')
    return targets


def list_videos(args) -> List[str]:
    """Video paths relative to the video root (with --dataset-config: the
    dataset's paths, and ``args.targets`` their detection files), sorted
    and unique."""
    if args.dataset_config:
        args.targets = dataset_targets(args)
        if args.out is None:
            args.out = osp.commonpath(
                [osp.dirname(p) for p in args.targets.values()])
        return sorted(args.targets)
    if args.videos:
        if not osp.isdir(args.videos):
            raise FileNotFoundError(f'--videos {args.videos}: no such folder')
        names = [
            osp.relpath(p, args.videos)
            for p in glob.glob(osp.join(args.videos, '**', '*'),
                               recursive=True)
            if osp.splitext(p)[1].lower() in VIDEO_EXTS
        ]
    else:
        names = [_name_with_ext(n, args.video_ext) for n in read_ann(args.ann)]
    return sorted(set(names))


def read_ann(path: str) -> List[str]:
    """Video names of an annotation file (the formats users already have)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'--ann {path}: no such file')
    ext = osp.splitext(path)[1].lower()
    if ext == '.json':
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        if isinstance(data, dict) and 'videos' in data:  # MSRVTT_data.json
            data = data['videos']
        names = []
        for i, item in enumerate(data if isinstance(data, list) else []):
            name = item if isinstance(item, str) else next(
                (item[k] for k in ('video', 'video_id', 'videoid')
                 if isinstance(item, dict) and k in item), None)
            if name is None:
                raise ValueError(f'{path}: entry {i} names no video (needs '
                                 f'"video", "video_id" or "videoid")')
            names.append(str(name))
        if not names:
            raise ValueError(f'{path}: no videos found')
        return names
    if ext == '.csv':
        with open(path, encoding='utf-8', newline='') as f:
            rows = list(csv.DictReader(f))
        if rows and 'videoid' in rows[0]:  # WebVid: page_dir/videoid
            return [osp.join(r.get('page_dir', ''), r['videoid'])
                    for r in rows]
        if rows and 'video_id' in rows[0]:  # MSR-VTT (CLIP4Clip)
            return [r['video_id'] for r in rows]
        raise ValueError(f'{path}: a .csv needs a "video_id" or "videoid" '
                         'column')
    with open(path, encoding='utf-8') as f:  # list file: `name [label ...]`
        return [line.split()[0] for line in f if line.strip()]


def resolve_shard(spec: Optional[str]) -> Tuple[int, int]:
    """``(index, count)`` of this process's shard of the video list."""
    if spec:
        try:
            k, n = (int(v) for v in spec.split('/'))
        except ValueError:
            raise ValueError(f'--shard must be K/N, got {spec!r}') from None
    elif 'WORLD_SIZE' in os.environ:
        k, n = int(os.environ.get('RANK', 0)), int(os.environ['WORLD_SIZE'])
    elif 'SLURM_ARRAY_TASK_COUNT' in os.environ:  # sbatch --array=0-(N-1)
        k = int(os.environ['SLURM_ARRAY_TASK_ID']) - int(
            os.environ.get('SLURM_ARRAY_TASK_MIN', 0))
        n = int(os.environ['SLURM_ARRAY_TASK_COUNT'])
    elif 'SLURM_NTASKS' in os.environ:
        k, n = int(os.environ['SLURM_PROCID']), int(os.environ['SLURM_NTASKS'])
    else:
        k, n = 0, 1
    if not 0 <= k < n:
        raise ValueError(f'shard {k}/{n}: need 0 <= K < N')
    return k, n


def output_path(out_dir: str, name: str, fmt: str) -> str:
    return osp.join(out_dir, osp.splitext(name)[0] + '.' + fmt)


def run_shard(args, names: Sequence[str], shard_name: str, report) -> dict:
    """Detect every video of ``names``; ``report(status, name, reason)``."""
    root = args.videos or args.video_root
    detector = None
    failed = []
    counts = dict(done=0, skipped=0, failed=0)
    targets = getattr(args, 'targets', None)
    for name in names:
        dst = targets[name] if targets else output_path(
            args.out, name, args.format)
        if osp.isfile(dst):
            counts['skipped'] += 1
            report('skipped', name, '')
            continue
        if detector is None:  # built lazily: a finished shard loads nothing
            detector = FrameDetector(args.config, args.checkpoint,
                                     args.device)
        path = name if targets else osp.join(root, name)
        try:
            if not osp.isfile(path):
                raise FileNotFoundError('video file not found')
            frames, inds, total = decode_frames(path, args.num_frames)
            dets = detect_frames(detector, frames, inds, args.topk,
                                 args.score_thr, args.batch_size)
            # the frame count lets frame_inds survive an fps-capped
            # re-encode (tools/data/compress_videos.py)
            dets.video_frames = total
            write_detections(dst, dets)
        except Exception as e:  # a bad video must not stop the others
            counts['failed'] += 1
            failed.append(f'{path}\t{type(e).__name__}: {e}')
            report('failed', path, f'{type(e).__name__}: {e}')
            continue
        counts['done'] += 1
        report('done', name, '')
    log_dir = osp.join(args.out, '_extract_logs')
    os.makedirs(log_dir, exist_ok=True)
    with open(osp.join(log_dir, f'failed.{shard_name}.txt'), 'w') as f:
        f.writelines(line.replace('\n', ' ') + '\n' for line in failed)
    return counts


def _worker(args, names, shard_name, queue, num_threads):
    import torch
    torch.set_num_threads(num_threads)
    try:
        counts = run_shard(args, names, shard_name,
                           lambda *msg: queue.put(msg))
        queue.put(('exit', shard_name, json.dumps(counts)))
    except Exception as e:  # e.g. the detector cannot be built
        queue.put(('error', shard_name, f'{type(e).__name__}: {e}'))


def main(argv=None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    from tqdm import tqdm

    names = list_videos(args)
    k, n = resolve_shard(args.shard)
    workers = max(1, args.workers)
    # worker w of shard k takes every (n*workers)-th video: balanced and
    # disjoint across all processes of all machines
    parts = {f'{k * workers + w}of{n * workers}':
             names[k * workers + w::n * workers] for w in range(workers)}
    total = sum(len(p) for p in parts.values())
    logger.info(f'{len(names)} videos listed; shard {k}/{n} with {workers} '
                f'worker(s): {total} videos -> {args.out}')
    os.makedirs(args.out, exist_ok=True)
    counts = dict(done=0, skipped=0, failed=0)
    start = time.time()
    bar = tqdm(total=total, unit='clip', desc='extract', dynamic_ncols=True)

    def report(status, name, reason):
        bar.update(1)
        if status == 'failed':
            logger.warning(f'bad video skipped: {name}: {reason}')

    if workers == 1:
        for shard_name, part in parts.items():
            counts = run_shard(args, part, shard_name, report)
    else:
        import multiprocessing as mp
        ctx = mp.get_context('spawn')  # fork would share the torch threads
        queue = ctx.Queue()
        threads = max(1, (os.cpu_count() or 1) // workers)
        procs = [ctx.Process(target=_worker, args=(args, part, name, queue,
                                                   threads))
                 for name, part in parts.items()]
        for p in procs:
            p.start()
        finished, errors = 0, []
        while finished < len(procs):
            status, name, reason = queue.get()
            if status == 'exit':
                finished += 1
                for key, v in json.loads(reason).items():
                    counts[key] += v
            elif status == 'error':
                finished += 1
                errors.append(f'worker {name}: {reason}')
            else:
                report(status, name, reason)
        for p in procs:
            p.join()
        if errors:
            bar.close()
            raise RuntimeError('extraction workers failed:\n' +
                               '\n'.join(errors))
    bar.close()
    seconds = time.time() - start
    rate = counts['done'] / seconds if seconds > 0 else 0.0
    logger.info(f"done {counts['done']}, skipped (already there) "
                f"{counts['skipped']}, failed {counts['failed']} in "
                f'{seconds:.1f} s ({rate:.2f} clips/s)')
    if counts['failed']:
        logger.info(f'failed videos are listed in '
                    f'{osp.join(args.out, "_extract_logs")}/failed.*.txt')
    return counts


if __name__ == '__main__':
    try:
        main()
    except RuntimeError as e:
        if 'mmcv' in str(e) and 'install_mmcv_full' in str(e):
            print(e, file=sys.stderr)
            sys.exit(2)
        raise
