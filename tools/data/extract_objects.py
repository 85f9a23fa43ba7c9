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

    # one shard per rank on a cluster (RANK/WORLD_SIZE or SLURM_PROCID/
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
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

from stoavlp.datasets.detection_files import (Detections,  # noqa: E402
                                              uniform_frame_inds,
                                              write_detections)

VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v')
MMCV_FULL_HINT = (
    'mmdet detectors need full mmcv with compiled ops, but `import mmcv.ops` '
    'fails here ({error}). This environment probably has mmcv-lite. Install '
    'full mmcv with:\n    bash tools/install_mmcv_full.sh   (about 12 min on '
    '2 cores; see the script)')
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
    parser.add_argument('--video-root', default='',
                        help='folder that --ann names are relative to')
    parser.add_argument('--video-ext', default='.mp4',
                        help='added to --ann names without an extension')
    parser.add_argument('--out', required=True, help='output folder')
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
                        'from RANK/WORLD_SIZE or SLURM_PROCID/SLURM_NTASKS)')
    return parser.parse_args(argv)


# --- the video list -------------------------------------------------------
def _name_with_ext(name: str, ext: str) -> str:
    return name if osp.splitext(name)[1].lower() in VIDEO_EXTS else name + ext


def list_videos(args) -> List[str]:
    """Video paths relative to the video root, sorted and unique."""
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
    elif 'SLURM_NTASKS' in os.environ:
        k, n = int(os.environ['SLURM_PROCID']), int(os.environ['SLURM_NTASKS'])
    else:
        k, n = 0, 1
    if not 0 <= k < n:
        raise ValueError(f'shard {k}/{n}: need 0 <= K < N')
    return k, n


# --- detection ------------------------------------------------------------
class FrameDetector:
    """An mmdet detector over batches of frames.

    Args:
        config (str): mmdet config file.
        checkpoint (str): Its weights, read with ``weights_only=True``.
        device (str): Torch device.
    """

    def __init__(self, config: str, checkpoint: str, device: str = 'cpu'):
        try:
            import mmcv.ops  # noqa: F401
        except ImportError as e:
            raise RuntimeError(MMCV_FULL_HINT.format(error=e)) from e
        from mmengine.registry import DefaultScope

        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'detector checkpoint {checkpoint}: no '
                                    'such file')
        # init_detector switches the process-wide default scope to mmdet;
        # build under a temporary scope so callers keep theirs
        with DefaultScope.overwrite_default_scope('mmdet'):
            self._build(config, checkpoint, device)

    def _build(self, config: str, checkpoint: str, device: str) -> None:
        from mmcv.transforms import Compose
        from mmdet.apis import init_detector
        from mmdet.utils import get_test_pipeline_cfg
        from mmengine.runner import load_state_dict

        from stoavlp.compat import load_external_checkpoint
        with warnings.catch_warnings():  # "no checkpoint": loaded below
            warnings.simplefilter('ignore', UserWarning)
            self.model = init_detector(config, None, device=device)
        ckpt = load_external_checkpoint(checkpoint)
        state = ckpt.get('state_dict', ckpt)
        load_state_dict(self.model, state, strict=True)
        self.classes = self._class_names(ckpt.get('meta') or {}, config)
        self.model.dataset_meta = dict(classes=tuple(self.classes))
        pipeline = get_test_pipeline_cfg(self.model.cfg.copy())
        # frames come as arrays; the prefix resolves the type from any scope
        pipeline[0].type = 'mmdet.LoadImageFromNDArray'
        self.pipeline = Compose(pipeline)

    def _class_names(self, meta: dict, config: str) -> List[str]:
        """The checkpoint's class names, else those of the config's test
        dataset (its ``metainfo`` or the dataset class's default)."""
        import copy

        from mmdet.registry import DATASETS
        classes = (meta.get('dataset_meta') or {}).get('classes') or meta.get(
            'CLASSES')
        if not classes:
            dataset_cfg = copy.deepcopy(self.model.cfg.test_dataloader.dataset)
            dataset_cfg['lazy_init'] = True  # only the metainfo is needed
            classes = DATASETS.build(dataset_cfg).metainfo.get('classes')
        if not classes:
            raise ValueError(f'{config}: the detector names no classes '
                             '(checkpoint meta or test dataset metainfo)')
        head = getattr(getattr(self.model, 'roi_head', self.model),
                       'bbox_head', None)  # one- and two-stage detectors
        num_classes = getattr(head, 'num_classes', len(classes))
        if len(classes) != num_classes:
            raise ValueError(f'{config}: {len(classes)} class names for a '
                             f'detector with {num_classes} classes')
        return [str(c) for c in classes]

    def __call__(self, frames_rgb: Sequence[np.ndarray], topk: int,
                 score_thr: float) -> List[Tuple[np.ndarray, ...]]:
        """Detect on ``F`` frames at once.

        Args:
            frames_rgb: ``F`` arrays ``(H, W, 3)`` uint8 RGB (decord order).

        Returns:
            Per frame ``(boxes (k, 4) float32 xyxy pixels, scores (k,),
            labels (k,) int64)``, the ``k <= topk`` best boxes above
            ``score_thr``, by descending score.
        """
        import torch
        batch = [
            self.pipeline(dict(img=np.ascontiguousarray(f[..., ::-1]),
                               img_id=i))  # mmdet expects BGR like cv2
            for i, f in enumerate(frames_rgb)
        ]
        data = dict(inputs=[b['inputs'] for b in batch],
                    data_samples=[b['data_samples'] for b in batch])
        with torch.no_grad():
            results = self.model.test_step(data)
        out = []
        for res in results:
            inst = res.pred_instances
            scores = inst.scores.cpu().numpy().astype(np.float32)
            keep = np.flatnonzero(scores >= score_thr)
            keep = keep[np.argsort(-scores[keep], kind='stable')][:topk]
            out.append((inst.bboxes.cpu().numpy()[keep].astype(np.float32),
                        scores[keep],
                        inst.labels.cpu().numpy()[keep].astype(np.int64)))
        return out


def decode_frames(path: str, num_frames: int):
    """``(frames (F, H, W, 3) RGB, frame_inds (F,), total_frames)``."""
    from mmaction.datasets.transforms import DecordDecode, DecordInit
    results = DecordInit()(dict(filename=path))
    total = int(results['total_frames'])
    if total < 1:
        raise ValueError('the video has no frames')
    inds = uniform_frame_inds(num_frames, total)
    results.update(frame_inds=inds, clip_len=num_frames, num_clips=1)
    results = DecordDecode()(results)
    return results['imgs'], inds, total


def detect_video(detector: FrameDetector, path: str, args) -> Detections:
    frames, inds, _ = decode_frames(path, args.num_frames)
    per_frame = []
    for s in range(0, len(frames), args.batch_size):
        per_frame += detector(frames[s:s + args.batch_size], args.topk,
                              args.score_thr)
    h, w = frames[0].shape[:2]
    return Detections(
        boxes=np.concatenate([p[0] for p in per_frame]).reshape(-1, 4),
        scores=np.concatenate([p[1] for p in per_frame]),
        labels=np.concatenate([p[2] for p in per_frame]),
        frames=np.concatenate(
            [np.full(len(p[1]), d, np.int64) for d, p in enumerate(per_frame)]),
        classes=detector.classes,
        num_frames=len(per_frame),
        frame_inds=inds,
        image_size=(w, h))


def output_path(out_dir: str, name: str, fmt: str) -> str:
    return osp.join(out_dir, osp.splitext(name)[0] + '.' + fmt)


def run_shard(args, names: Sequence[str], shard_name: str, report) -> dict:
    """Detect every video of ``names``; ``report(status, name, reason)``."""
    root = args.videos or args.video_root
    detector = None
    failed = []
    counts = dict(done=0, skipped=0, failed=0)
    for name in names:
        dst = output_path(args.out, name, args.format)
        if osp.isfile(dst):
            counts['skipped'] += 1
            report('skipped', name, '')
            continue
        if detector is None:  # built lazily: a finished shard loads nothing
            detector = FrameDetector(args.config, args.checkpoint,
                                     args.device)
        path = osp.join(root, name)
        try:
            if not osp.isfile(path):
                raise FileNotFoundError('video file not found')
            write_detections(dst, detect_video(detector, path, args))
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
