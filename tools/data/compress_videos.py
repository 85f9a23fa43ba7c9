"""Re-encode videos small and fast to seek: the data pipeline's input.

Every video under ``SRC`` (a folder, searched recursively, or a text file
listing one path per line, relative to its folder) is written to ``DST``
under the same relative path as an H.264 ``.mp4`` (PyAV + libx264, no
audio): short side ``--short-side`` pixels (never upscaled), at most
``--max-fps`` frames per second (frames dropped by timestamp, duration
kept), a keyframe every ``--gop`` frames so that a reader seeks to any
frame decoding at most ``gop - 1`` others. Nothing else is copied.

Detection files stay valid: boxes are stored with the detector's
``image_size`` and frames with its ``video_frames`` count, which
``LoadObjectDetections`` rescales to the compressed copy.

Resumable: each output is written to a temporary name and renamed when
complete, so an existing ``DST`` file is finished and skipped; a killed
run leaves only temporary files, which are redone. Bad inputs are logged
and listed with the reason in ``DST/failed.txt``.

Example::

    python tools/data/compress_videos.py data/msrvtt/videos \\
        data/msrvtt/videos_224 --short-side 224 --max-fps 10 --workers 8
"""
import argparse
import glob
import logging
import multiprocessing as mp
import os
import os.path as osp
import sys
from fractions import Fraction
from typing import List, Optional, Tuple

import av
from tqdm import tqdm

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

from stoavlp.datasets.base import VIDEO_EXTS  # noqa: E402

logger = logging.getLogger('compress_videos')
TMP_TAG = '.part'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='folder of videos, or a list file')
    parser.add_argument('dst', help='output folder (mirrors SRC paths)')
    parser.add_argument('--short-side', type=int, default=224,
                        help='output short side in pixels (not upscaled)')
    parser.add_argument('--max-fps', type=float, default=None,
                        help='frame rate cap (default: keep the input\'s)')
    parser.add_argument('--gop', type=int, default=8,
                        help='keyframe interval in frames')
    parser.add_argument('--crf', type=int, default=23,
                        help='x264 constant rate factor (lower: better)')
    parser.add_argument('--preset', default='veryfast',
                        help='x264 speed preset')
    parser.add_argument('--workers', type=int, default=1)
    return parser.parse_args(argv)


def list_videos(src: str) -> Tuple[str, List[str]]:
    """``(root, sorted paths relative to root)`` of a folder or list file."""
    if osp.isdir(src):
        names = [osp.relpath(p, src)
                 for p in glob.glob(osp.join(src, '**', '*'), recursive=True)
                 if osp.splitext(p)[1].lower() in VIDEO_EXTS
                 and osp.isfile(p)]
        return src, sorted(names)
    if not osp.isfile(src):
        raise FileNotFoundError(f'SRC is neither a folder nor a list file: '
                                f'{src}')
    with open(src, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    return osp.dirname(osp.abspath(src)), names


def output_name(name: str) -> str:
    return osp.splitext(name)[0] + '.mp4'


def output_size(w: int, h: int, short_side: int) -> Tuple[int, int]:
    """``(w, h)`` with the short side ``short_side`` (never upscaled), the
    aspect kept, both even (yuv420p)."""
    scale = min(1.0, short_side / min(w, h))
    return (max(2, int(round(w * scale / 2)) * 2),
            max(2, int(round(h * scale / 2)) * 2))


def compress_video(src: str, dst: str, short_side: int = 224,
                   max_fps: Optional[float] = None, gop: int = 8,
                   crf: int = 23, preset: str = 'veryfast') -> dict:
    """Re-encode ``src`` to ``dst`` (see the module docstring).

    With an fps cap, output frame ``j`` (time ``j / fps``) is the first
    input frame at or after that time, so an input frame ``i`` of ``N``
    lands in output frame ``floor((i + 0.5) / N * M)`` for an integer rate
    ratio, which is how ``LoadObjectDetections`` maps detection frames.

    Returns:
        dict: ``frames`` (output count), ``fps``, ``size`` ``(w, h)``.
    """
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = f'{dst}{TMP_TAG}{os.getpid()}.mp4'
    try:
        with av.open(src) as inp:
            if not inp.streams.video:
                raise ValueError('no video stream')
            ins = inp.streams.video[0]
            ins.thread_type = 'AUTO'
            in_fps = float(ins.average_rate or ins.guessed_rate or 25)
            fps = min(in_fps, max_fps) if max_fps else in_fps
            rate = Fraction(fps).limit_denominator(1001)
            w, h = output_size(ins.codec_context.width,
                               ins.codec_context.height, short_side)
            count = 0
            with av.open(tmp, 'w', format='mp4') as out:
                st = out.add_stream('libx264', rate=rate, options={
                    'crf': str(crf), 'preset': preset, 'bf': '0',
                    # fixed GOP: every gop-th frame is a keyframe
                    'g': str(gop), 'keyint_min': str(gop),
                    'sc_threshold': '0'})
                st.width, st.height, st.pix_fmt = w, h, 'yuv420p'
                # one thread per worker: parallelism is over videos
                st.codec_context.thread_count = 1
                t0 = None
                for i, frame in enumerate(inp.decode(ins)):
                    t = frame.time if frame.time is not None else i / in_fps
                    t0 = t if t0 is None else t0
                    # keep the first frame at or after each output tick
                    if (t - t0) * float(rate) < count - 1e-6:
                        continue
                    small = frame.reformat(width=w, height=h,
                                           format='yuv420p',
                                           interpolation='AREA')
                    small.pts, small.time_base = count, 1 / rate
                    # the input's I-frame flags would force extra keyframes
                    small.pict_type = av.video.frame.PictureType.NONE
                    out.mux(st.encode(small))
                    count += 1
                out.mux(st.encode())
            if count == 0:
                raise ValueError('no decodable frames')
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return dict(frames=count, fps=float(rate), size=(w, h))


def _job(task):
    src, dst, opts = task
    try:
        compress_video(src, dst, **opts)
        return 'done', src, ''
    except Exception as e:  # a bad video must not stop the others
        return 'failed', src, f'{type(e).__name__}: {e}'.replace('\n', ' ')


def main(argv=None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    root, names = list_videos(args.src)
    opts = dict(short_side=args.short_side, max_fps=args.max_fps,
                gop=args.gop, crf=args.crf, preset=args.preset)
    counts = dict(done=0, skipped=0, failed=0)
    tasks = []
    for name in names:
        dst = osp.join(args.dst, output_name(name))
        if osp.isfile(dst):  # only complete files get the final name
            counts['skipped'] += 1
        else:
            tasks.append((osp.join(root, name), dst, opts))
    os.makedirs(args.dst, exist_ok=True)
    failed = []
    bar = tqdm(total=len(tasks), unit='video', desc='compress',
               dynamic_ncols=True)
    pool = mp.Pool(args.workers) if args.workers > 1 and tasks else None
    results = pool.imap_unordered(_job, tasks) if pool else map(_job, tasks)
    for status, src, reason in results:
        counts[status] += 1
        if reason:
            failed.append(f'{src}\t{reason}')
            logger.warning(f'failed: {src}: {reason}')
        bar.update()
    bar.close()
    if pool:
        pool.close()
        pool.join()
    with open(osp.join(args.dst, 'failed.txt'), 'w', encoding='utf-8') as f:
        f.writelines(line + '\n' for line in sorted(failed))
    logger.info(f'{len(names)} videos: {counts["done"]} compressed, '
                f'{counts["skipped"]} already done, {counts["failed"]} '
                f'failed (listed in {osp.join(args.dst, "failed.txt")})')
    return counts


if __name__ == '__main__':
    main()
