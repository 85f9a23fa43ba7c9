"""Bad training samples: what they are and how a run survives them.

A sample is *bad* when its data cannot be read: an unreadable, truncated,
zero-frame or too-short video, or a malformed (or, by config, missing)
detection file. :class:`GuardedPipeline` turns such failures into a
:class:`BadSampleError` naming the file; the dataset then logs it, counts
it and fetches another sample (bounded retries), and the replacement sample
carries the skipped files in its ``bad_samples`` metainfo so that
:class:`~stoavlp.engine.hooks.BadSampleHook` can report them per epoch,
across dataloader workers and ranks. Any other exception is a bug and
propagates unchanged.
"""
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.dataset import Compose

# mmaction2 transforms that read video files: any exception they raise is a
# property of the data, not of the code. (LoadObjectDetections raises
# BadSampleError itself, and a plain error when configured to stop.)
READER_TRANSFORMS = frozenset({
    'DecordInit', 'DecordDecode', 'PyAVInit', 'PyAVDecode',
    'PyAVDecodeMotionVector', 'OpenCVInit', 'OpenCVDecode', 'PIMSInit',
    'PIMSDecode', 'RawFrameDecode', 'TorchCodecInit', 'TorchCodecDecode',
    # a clip's frame count is checked like a video's (min_frames)
    'ClipRange'
})

# Geometric transforms after which a Flip would break ProjectObjectBoxes.
_BOX_GEOMETRY = frozenset({
    'Resize', 'RandomRescale', 'RandomCrop', 'CenterCrop',
    'RandomResizedCrop', 'MultiScaleCrop', 'ThreeCrop', 'TenCrop'
})


class BadSampleError(RuntimeError):
    """A sample whose files cannot be used; names the file and the reason."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f'{path}: {reason}')

    def as_dict(self) -> Dict[str, str]:
        return {'path': self.path, 'reason': self.reason}


def _type_name(transform) -> str:
    return type(transform).__name__


class GuardedPipeline(Compose):
    """A ``Compose`` that turns data failures into :class:`BadSampleError`.

    Besides failures of :data:`READER_TRANSFORMS`, it checks what a reader
    produced: ``total_frames`` below ``min_frames`` (zero-frame or too-short
    video) and a decode that returned fewer frames than were sampled.

    Args:
        transforms (Sequence[dict | callable]): The pipeline.
        min_frames (int, optional): Fewest frames a usable video has. By
            default what the pipeline's frame sampler needs to take distinct
            frames (its ``clip_len``; 1 without a sampler): a 3-frame video
            under an 8-frame sampler would train on repeated frames, so it
            is a bad sample. Set 1 to accept such padded clips.
        reader_transforms (Sequence[str], optional): Extra transform class
            names whose exceptions mark the sample as bad.
    """

    def __init__(self,
                 transforms: Sequence,
                 min_frames: Optional[int] = None,
                 reader_transforms: Optional[Sequence[str]] = None):
        super().__init__(transforms)
        self.min_frames = sampler_frames(self.transforms) \
            if min_frames is None else min_frames
        self.reader_transforms = READER_TRANSFORMS | set(reader_transforms
                                                         or ())
        check_flip_is_last(self.transforms)

    def __call__(self, results: Dict) -> Dict:
        path = results.get('filename', results.get('video_id', '<unknown>'))
        for transform in self.transforms:
            name = _type_name(transform)
            try:
                out = transform(results)
            except BadSampleError:
                raise
            except Exception as e:  # noqa: B902  (classified right below)
                if name not in self.reader_transforms:
                    raise
                raise BadSampleError(
                    path, f'{name} failed: {type(e).__name__}: {e}') from e
            if out is None:
                raise BadSampleError(path, f'{name} returned None')
            results = out
            self._check(results, name, path)
        return results

    def _check(self, results: Dict, name: str, path: str) -> None:
        if name not in self.reader_transforms:
            return
        total = results.get('total_frames')
        if total is not None and total < self.min_frames:
            raise BadSampleError(
                path, f'video has {total} frames, fewer than the '
                f'{self.min_frames} required')
        imgs = results.get('imgs')
        if imgs is not None and 'frame_inds' in results:
            expected = len(results['frame_inds'])
            if len(imgs) != expected:
                raise BadSampleError(
                    path, f'decoded {len(imgs)} of {expected} sampled '
                    'frames (truncated video?)')


# frame samplers (mmaction2's and ours): frames one clip takes
SAMPLERS = ('UniformSample', 'SampleFrames', 'UniformSampleFrames',
            'DenseSampleFrames')


def sampler_frames(transforms: Sequence[Callable]) -> int:
    """``clip_len`` of the first frame sampler in ``transforms`` (the
    frames a video needs for distinct samples), 1 without one."""
    for transform in transforms:
        if _type_name(transform) in SAMPLERS and hasattr(transform,
                                                         'clip_len'):
            return max(1, int(transform.clip_len))
    return 1


def check_flip_is_last(transforms: List[Callable]) -> None:
    """Raise if a geometric transform follows ``Flip`` before boxes are
    projected (ProjectObjectBoxes assumes the flip happens last)."""
    names = [_type_name(t) for t in transforms]
    if 'ProjectObjectBoxes' not in names:
        return
    seen_flip = False
    for name in names[:names.index('ProjectObjectBoxes')]:
        if name == 'Flip':
            seen_flip = True
        elif seen_flip and name in _BOX_GEOMETRY:
            raise ValueError(
                f'Pipeline has {name} after Flip: ProjectObjectBoxes needs '
                f'Flip to be the last geometric transform. Pipeline: {names}')
