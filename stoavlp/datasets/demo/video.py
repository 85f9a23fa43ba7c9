"""H.264 mp4 writing for the demo clips (PyAV + libx264)."""
import os
from fractions import Fraction

import av
import numpy as np


def write_mp4(path: str, frames: np.ndarray, fps: int, crf: int = 17,
              preset: str = 'veryfast') -> None:
    """Encode ``(T, H, W, 3)`` uint8 RGB frames as an H.264 yuv420p mp4.

    x264 runs single-threaded (the generator parallelises over clips
    instead), which also makes the output byte-identical from run to run.
    B-frames are off and every frame has a distinct, evenly spaced
    timestamp, so frame-accurate readers (decord, PyAV) count exactly ``T``
    frames. Written to a temporary name and renamed, so an interrupted run
    never leaves a truncated video behind.

    Args:
        path: Output ``.mp4`` path.
        frames: Frames; ``H`` and ``W`` must be even (yuv420p).
        fps: Frame rate.
        crf: x264 constant rate factor; low enough that object colours
            survive compression.
        preset: x264 speed preset.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f'expected (T, H, W, 3) uint8 frames, got '
                         f'{frames.shape} {frames.dtype}')
    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f'yuv420p needs even frame sizes, got {w}x{h}')
    tmp = f'{path}.tmp{os.getpid()}'
    with av.open(tmp, 'w', format='mp4') as container:
        stream = container.add_stream(
            'libx264', rate=Fraction(int(fps)), options={
                'crf': str(crf), 'preset': preset, 'bf': '0',
                'g': str(max(int(fps), 1))})
        stream.width, stream.height, stream.pix_fmt = w, h, 'yuv420p'
        stream.codec_context.thread_count = 1
        stream.codec_context.thread_type = 'NONE'
        # mp4 metadata would otherwise carry the libavformat version only;
        # no creation time is written, keeping files reproducible.
        for frame in frames:
            vf = av.VideoFrame.from_ndarray(frame, format='rgb24')
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)


def count_frames(path: str) -> int:
    """Number of decodable frames of a video, by decoding it with PyAV."""
    with av.open(path) as container:
        return sum(1 for _ in container.decode(video=0))
