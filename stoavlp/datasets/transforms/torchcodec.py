"""Video decoding with torchcodec, PyTorch's own FFmpeg-based decoder.

A drop-in for mmaction2's ``DecordInit``/``DecordDecode`` (same keys), with
torchcodec's exact seeking (frame ``i`` is the ``i``-th frame in
presentation order, found from a scan of the file's packets) and, on
clusters, NVDEC decoding (``device='cuda'``). Select it in a config with
``configs/_base_/datasets/pipelines/u12_224_torchcodec.py``.

torchcodec needs the FFmpeg shared libraries (major versions 4 to 9) at
run time; ``tools/setup.sh`` installs Debian's as root
(docs/data_preparation.md).
"""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import FileClient

from stoavlp.registry import TRANSFORMS


def _decoder_class():
    try:
        from torchcodec.decoders import VideoDecoder
    except (ImportError, RuntimeError, OSError) as e:
        raise ImportError(
            'TorchCodecInit needs torchcodec and the FFmpeg shared libraries '
            f'({type(e).__name__}: {e}); `pip install torchcodec` and, on '
            'Debian/Ubuntu, `apt-get install libavcodec59 libavformat59 '
            'libavutil57 libswscale6 libswresample4 libavdevice59 '
            'libavfilter8` (tools/setup.sh does both)') from e
    return VideoDecoder


@TRANSFORMS.register_module()
class TorchCodecInit(BaseTransform):
    """Open a video with torchcodec's ``VideoDecoder``.

    Required Keys:

        - filename

    Added Keys:

        - video_reader (torchcodec.decoders.VideoDecoder)
        - total_frames (int)
        - avg_fps (float)

    Args:
        io_backend (str): MMEngine file backend. ``'disk'`` (default) lets
            torchcodec read the file itself, seeking (a clip of a long video
            reads only its part); any other backend (e.g. the shards'
            in-memory one) hands it the file's bytes.
        seek_mode (str): ``'exact'`` (default) scans the packets once so
            that frame indices and ``total_frames`` are exact even for
            files with B-frames or a variable frame rate; ``'approximate'``
            skips the scan and estimates them from the header's fps and
            duration (faster on long videos, exact on constant-fps ones).
        device (str): ``'cpu'`` (default) or ``'cuda'``/``'cuda:N'`` for
            NVDEC decoding; frames then come back to the host as numpy
            arrays (the pipeline's transforms are numpy). Not tested here
            (no GPU).
        num_ffmpeg_threads (int): FFmpeg decoding threads per video;
            default 1, as dataloader workers already run in parallel.
        **kwargs: File client arguments.
    """

    def __init__(self, io_backend: str = 'disk', seek_mode: str = 'exact',
                 device: str = 'cpu', num_ffmpeg_threads: int = 1,
                 **kwargs) -> None:
        if seek_mode not in ('exact', 'approximate'):
            raise ValueError(f"seek_mode must be 'exact' or 'approximate', "
                             f'got {seek_mode!r}')
        self.io_backend = io_backend
        self.seek_mode = seek_mode
        self.device = device
        self.num_ffmpeg_threads = num_ffmpeg_threads
        self.kwargs = kwargs
        self.file_client = None
        self._decoder = _decoder_class()

    def transform(self, results: Dict) -> Dict:
        source = results['filename']
        if self.io_backend != 'disk':
            if self.file_client is None:
                self.file_client = FileClient(self.io_backend, **self.kwargs)
            source = self.file_client.get(source)
        reader = self._decoder(
            source, seek_mode=self.seek_mode, device=self.device,
            num_ffmpeg_threads=self.num_ffmpeg_threads)
        meta = reader.metadata
        results['video_reader'] = reader
        results['total_frames'] = int(meta.num_frames)
        results['avg_fps'] = float(meta.average_fps)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(io_backend={self.io_backend!r}, '
                f'seek_mode={self.seek_mode!r}, device={self.device!r}, '
                f'num_ffmpeg_threads={self.num_ffmpeg_threads})')


@TRANSFORMS.register_module()
class TorchCodecDecode(BaseTransform):
    """Decode the sampled frames in one batched, seeking call.

    Required Keys:

        - video_reader
        - frame_inds

    Added Keys:

        - imgs (list[np.ndarray]): ``T`` frames ``(H, W, 3)`` uint8 RGB.
        - original_shape, img_shape (tuple): ``(H, W)``.

    Modified Keys:

        - video_reader (set to None: the decoder is released)
    """

    def transform(self, results: Dict) -> Dict:
        reader = results['video_reader']
        frame_inds = np.asarray(results['frame_inds']).reshape(-1)
        results['frame_inds'] = frame_inds
        # each distinct frame decoded once, in file order
        unique, inverse = np.unique(frame_inds, return_inverse=True)
        frames = reader.get_frames_at(unique.tolist()).data  # (N, 3, H, W)
        frames = frames.permute(0, 2, 3, 1).cpu().numpy()
        imgs = [frames[i] for i in inverse]
        results['video_reader'] = None
        results['imgs'] = imgs
        results['original_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]
        return results
