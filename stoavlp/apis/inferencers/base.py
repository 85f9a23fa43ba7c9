"""What every stoavlp inferencer shares: inputs, the test pipeline, objects,
per-video errors and pictures.

Letters: T frames, H x W frame size.
"""
import glob
import os
import os.path as osp
import warnings
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log

from stoavlp.datasets.base import VIDEO_EXTS
from ..model import init_model

# decoders a frames-array input replaces (mmaction2's *Init/*Decode pairs)
_INIT = ('DecordInit', 'PyAVInit', 'OpenCVInit', 'PIMSInit',
         'TorchCodecInit')
_DECODE = ('DecordDecode', 'PyAVDecode', 'OpenCVDecode', 'PIMSDecode',
           'TorchCodecDecode')
_NO_OBJECTS_WARNED = False

InputType = Union[str, np.ndarray, dict]


def list_videos(inputs: Union[InputType, Sequence[InputType]]) -> list:
    """A path, a folder (its videos, recursively, sorted), decoded frames
    ``(T, H, W, 3)`` uint8 RGB, a dict, or a list of those -> a list."""
    if isinstance(inputs, (str, np.ndarray, dict)):
        inputs = [inputs]
    out = []
    for item in inputs:
        if isinstance(item, str) and osp.isdir(item):
            found = sorted(
                p for p in glob.glob(osp.join(item, '**', '*'),
                                     recursive=True)
                if osp.splitext(p)[1].lower() in VIDEO_EXTS)
            if not found:
                raise FileNotFoundError(f'{item}: a folder without videos '
                                        f'({", ".join(VIDEO_EXTS)})')
            out.extend(found)
        else:
            out.append(item)
    return out


def per_video(values, videos: Sequence, what: str,
              is_one=lambda v: isinstance(v, str)) -> list:
    """``values`` for each of ``videos``: one value (``is_one(values)``)
    repeated for every video, or one per video (checked)."""
    if is_one(values):
        return [values] * len(videos)
    if len(values) != len(videos):
        raise ValueError(f'{len(values)} {what} for {len(videos)} videos: '
                         'give one, or one per video')
    return list(values)


def dataset_pipeline_cfg(cfg) -> Tuple[list, dict]:
    """The test (else val) dataset's pipeline config and the dataset config
    of a model config."""
    for phase in ('test', 'val'):
        loader = cfg.get(f'{phase}_dataloader')
        if not loader:
            continue
        dataset = loader['dataset']
        while 'pipeline' not in dataset and 'datasets' in dataset:
            dataset = dataset['datasets'][0]
        if 'pipeline' in dataset:
            return list(dataset['pipeline']), dataset
    raise ValueError('the config has no test_dataloader (or val_dataloader) '
                     'dataset pipeline to run inference with')


class BaseVideoInferencer(BaseInferencer):
    """Inference on videos through the model's own test pipeline.

    Inputs are video paths (any codec the config's decoder reads), folders,
    decoded frames ``(T, H, W, 3)`` uint8 RGB, or dicts with those keys a
    dataset item has (``filename``, ``text``, ...). Every input runs through
    the config's test pipeline (frame sampling, resize/crop, tokenisation,
    noun/verb masks): the one evaluation uses, never a re-implementation.
    Frames arrays replace only the decoder (mmaction2's ``ArrayDecode``).

    Objects, by argument:

    - ``detector``: an mmdet detector run in-process on the sampled frames
      (``DetectObjects``, the path of ``tools/data/extract_objects.py``);
    - ``objects_dir``: existing detection files mirroring the video paths
      relative to ``video_root`` (default: the video's own folder, so
      ``objects_dir/<name>.npz`` or ``.json``);
    - neither: no objects, hence no trajectory tokens (warned once; the
      model was trained with them, see docs/inference.md for what it costs).

    A video that cannot be used (unreadable, truncated, fewer frames than
    the sampler takes: the dataset's bad-sample checks) gives one logged
    error naming it and an ``error`` entry in its result; the other inputs
    of the call still return.

    Args:
        model (str | Config | nn.Module): Config file, model-index name,
            config, or a model from :func:`~stoavlp.apis.init_model` (its
            ``cfg`` is used; no second copy is loaded).
        weights (str, optional): Checkpoint (with a config).
        device (str): Defaults to ``'cpu'``.
        detector (dict | FrameDetector, optional): ``dict(config=...,
            checkpoint=..., device=..., batch_size=12)`` (frames per
            detector forward) or a built detector.
        objects_dir (str, optional): Detection files folder.
        video_root (str, optional): Where video paths are relative to for
            ``objects_dir``.
        num_workers (int): Processes running the pipeline. Defaults to 0.
        show_progress (bool): A progress bar over batches. Defaults to True.
    """
    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'show', 'out_dir', 'draw'}
    postprocess_kwargs: set = set()
    default_text = ''  # the text of a plain video input

    def __init__(self, model, weights: Optional[str] = None,
                 device: str = 'cpu', detector=None,
                 objects_dir: Optional[str] = None,
                 video_root: Optional[str] = None, num_workers: int = 0,
                 show_progress: bool = True) -> None:
        if detector is not None and objects_dir is not None:
            raise ValueError('give detector or objects_dir, not both')
        if isinstance(model, torch.nn.Module):
            if weights is not None:
                raise ValueError('weights with a built model: load them with '
                                 'init_model(config, weights) instead')
            self.model = model.eval()
        else:
            self.model = init_model(model, weights, device)
        if not hasattr(self.model, 'cfg'):
            raise ValueError('the model has no .cfg: build it with '
                             'stoavlp.apis.init_model')
        self.cfg = self.model.cfg
        self.scope = 'stoavlp'
        self.objects_dir, self.video_root = objects_dir, video_root
        self.num_workers, self.show_progress = num_workers, show_progress
        pipeline_cfg, self.dataset_cfg = dataset_pipeline_cfg(self.cfg)
        self.detector, self.detect_batch = _build_detector(detector)
        self.pipeline = self._init_pipeline(pipeline_cfg)
        self.array_pipeline = self._init_pipeline(pipeline_cfg, arrays=True)
        self.collate_fn = pseudo_collate
        self._visualizer = None
        self._check_model()

    def _check_model(self) -> None:
        """Raise unless the model can do this inferencer's task."""

    # -- the pipeline --------------------------------------------------------
    def _init_pipeline(self, pipeline_cfg: list, arrays: bool = False):
        from stoavlp.datasets.bad_samples import GuardedPipeline
        from stoavlp.datasets.transforms import DetectObjects
        from stoavlp.registry import TRANSFORMS
        transforms = []
        for cfg in pipeline_cfg:
            cfg = dict(cfg)
            kind = cfg['type']
            if arrays and kind in _INIT:
                continue
            if arrays and kind in _DECODE:
                cfg = dict(type='ArrayDecode')
            if kind == 'LoadObjectDetections':
                if self.detector is not None:
                    cfg.pop('type')
                    cfg.pop('on_missing', None)
                    transforms.append(DetectObjects(
                        self.detector, batch_size=self.detect_batch, **cfg))
                    continue
                if self.objects_dir is None:
                    cfg['on_missing'] = 'empty'
            transforms.append(TRANSFORMS.build(cfg))
        return GuardedPipeline(
            transforms, min_frames=self.dataset_cfg.get('min_frames'),
            reader_transforms=['ArrayDecode'] if arrays else None)

    def _objects_path(self, path: str) -> str:
        if self.objects_dir is None:
            return ''  # LoadObjectDetections(on_missing='empty'): none
        root = self.video_root or osp.dirname(path)
        stem = osp.splitext(osp.relpath(path, root))[0]
        for ext in ('.npz', '.json'):
            if osp.isfile(osp.join(self.objects_dir, stem + ext)):
                return osp.join(self.objects_dir, stem + ext)
        return osp.join(self.objects_dir, stem + '.npz')  # named if missing

    def data_item(self, index: int, video: InputType,
                  text: Any = None) -> Tuple[dict, Any]:
        """The dataset-style item of one input and the pipeline to run."""
        global _NO_OBJECTS_WARNED
        if self.detector is None and self.objects_dir is None and \
                not _NO_OBJECTS_WARNED:
            _NO_OBJECTS_WARNED = True
            warnings.warn(
                'stoavlp inference without objects (no detector, no '
                'objects_dir): the trajectory tokens are empty, and the '
                'model was trained with them; docs/inference.md says what '
                'that costs. Said once per process.', UserWarning)
        item = dict(start_index=0, modality='RGB',
                    text=self.default_text if text is None else text)
        if isinstance(video, dict):
            item.update(video)
            video = item.get('filename', item.get('array'))
        if isinstance(video, np.ndarray):
            if video.ndim != 4 or video.shape[-1] != 3 or \
                    video.dtype != np.uint8:
                raise ValueError(
                    f'input {index}: decoded frames must be (T, H, W, 3) '
                    f'uint8 RGB, got {video.shape} {video.dtype}')
            item.update(array=video, total_frames=len(video))
            item.setdefault('video_id', f'frames_{index}')
            item.setdefault('filename', f'<frames input {index}>')
            item.setdefault('objects_path', '')
            return item, self.array_pipeline
        if not isinstance(video, str):
            raise TypeError(f'input {index}: a path, a folder or frames '
                            f'(T, H, W, 3), got {type(video).__name__}')
        item.setdefault('filename', video)
        item.setdefault('video_id', osp.splitext(osp.basename(video))[0])
        item.setdefault('objects_path', self._objects_path(video))
        return item, self.pipeline

    def run_pipeline(self, index: int, video: InputType,
                     text: Any = None) -> Tuple[Optional[dict], str]:
        """``(packed item, '')``, or ``(None, error)`` for a video that
        cannot be used (logged, naming it)."""
        from stoavlp.datasets.bad_samples import BadSampleError
        item, pipeline = self.data_item(index, video, text)
        try:
            if isinstance(video, str) and not osp.isfile(video):
                raise BadSampleError(video, 'no such file')
            return pipeline(item), ''
        except (BadSampleError, FileNotFoundError) as err:
            message = str(err)
            if isinstance(err, FileNotFoundError) and self.objects_dir:
                message = (f'{_name(video, index)}: no detection file '
                           f'{item["objects_path"]} (objects_dir '
                           f'{self.objects_dir})')
            print_log(f'input {index} skipped: {message}', logger='current',
                      level=30)
            return None, message

    # -- the run -------------------------------------------------------------
    def preprocess(self, inputs, batch_size: int = 1, **kwargs):
        """Inputs -> ``(indices, collated batch, errors)`` chunks (see
        :meth:`batches`)."""
        return self.batches(self.jobs(inputs, **kwargs), batch_size)

    def batches(self, jobs: Sequence[Tuple[InputType, Any]],
                batch_size: int) -> Iterator[Tuple[List[int], dict,
                                                   Dict[int, str]]]:
        """Run the pipeline over ``(video, text)`` jobs (``num_workers``
        processes) and yield ``(indices, collated batch, errors)``."""
        from torch.utils.data import DataLoader
        loader = DataLoader(_Jobs(self, jobs), batch_size=batch_size,
                            num_workers=self.num_workers,
                            collate_fn=lambda rows: rows)
        for rows in _progress(loader, self.show_progress):
            good = [(i, item) for i, item, _ in rows if item is not None]
            errors = {i: err for i, item, err in rows if item is None}
            batch = self.collate_fn([item for _, item in good]) \
                if good else None
            yield [i for i, _ in good], batch, errors

    def __call__(self, inputs, return_datasamples: bool = False,
                 batch_size: int = 1, **kwargs) -> dict:
        """Run the inferencer.

        Returns:
            dict: ``predictions``, one per input in order (a dict, or a data
            sample with ``return_datasamples``; ``dict(video=...,
            error=...)`` for an input that could not be used) and
            ``visualization`` (the pictures' paths, or arrays with
            ``show``, when asked for).
        """
        pre, fwd, vis, post = self._dispatch_kwargs(**kwargs)
        jobs = self.jobs(inputs, **pre)
        preds: List[Any] = [None] * len(jobs)
        pictures: List[Any] = []
        # errors come back per input, so the chunks are not the base class's
        for indices, batch, errors in self.batches(jobs, batch_size):
            for i, err in errors.items():
                preds[i] = dict(video=_name(jobs[i][0], i), error=err)
            if batch is None:
                continue
            samples = self.forward(batch, **fwd)
            pictures += self.visualize(batch['inputs'], samples, **vis) or []
            for i, sample in zip(indices, samples):
                preds[i] = sample
        return dict(predictions=self.postprocess(preds, return_datasamples,
                                                 **post),
                    visualization=pictures)

    def jobs(self, inputs) -> List[Tuple[InputType, Any]]:
        """``(video, text)`` per input."""
        return [(video, None) for video in list_videos(inputs)]

    @torch.no_grad()
    def forward(self, batch: dict, **kwargs) -> list:
        data = self.model.data_preprocessor(batch, False)
        return self.model.predict(data['inputs'], data['data_samples'],
                                  **kwargs)

    def postprocess(self, preds: list, return_datasamples: bool = False,
                    **kwargs) -> list:
        if return_datasamples:
            return preds
        return [p if isinstance(p, dict) else self.pred_to_dict(p)
                for p in preds]

    def pred_to_dict(self, sample) -> dict:
        """The result of one data sample as plain Python."""
        raise NotImplementedError

    # -- pictures ------------------------------------------------------------
    @property
    def visualizer(self):
        if self._visualizer is None:
            from stoavlp.visualization import VideoTextVisualizer
            self._visualizer = VideoTextVisualizer(
                name=f'stoavlp-inferencer-{id(self)}')
        return self._visualizer

    @visualizer.setter
    def visualizer(self, value) -> None:
        self._visualizer = value

    def visualize(self, inputs: Sequence[torch.Tensor], samples: list,
                  show: bool = False, out_dir: Optional[str] = None,
                  draw: bool = False) -> list:
        """Draw each clip (frames with boxes coloured by trajectory, the
        prediction): write ``out_dir/<video_id>.png`` and return the paths;
        without ``out_dir``, return the pictures (``(H, W, 3)`` uint8) when
        ``draw`` or ``show`` (a window) ask for them."""
        if not (show or draw) and out_dir is None:
            return []
        from PIL import Image
        out = []
        for video, sample in zip(inputs, samples):
            sheet = self.visualizer.draw_clip(video, sample)['sheet']
            if show:
                self.visualizer.show(sheet, win_name=sample.video_id)
            if out_dir is None:
                out.append(sheet)
                continue
            path = osp.join(out_dir, f'{sample.video_id}.png')
            os.makedirs(out_dir, exist_ok=True)
            Image.fromarray(sheet).save(path)
            out.append(path)
        return out

    def _init_collate(self, cfg):  # BaseInferencer's abstract hooks
        return pseudo_collate


def _build_detector(detector) -> Tuple[Any, int]:
    """``(detector object or None, frames per forward)`` of the
    ``detector`` argument: a built detector, or ``dict(config=...,
    checkpoint=..., device=..., batch_size=12)`` built once here for both
    pipelines."""
    if not isinstance(detector, dict):
        return detector, 12
    from stoavlp.datasets.transforms import DetectObjects
    detector = dict(detector)
    batch_size = detector.pop('batch_size', 12)
    return DetectObjects(detector).detector, batch_size


class _Jobs(torch.utils.data.Dataset):
    """The pipeline over ``(video, text)`` jobs, one item a job."""

    def __init__(self, inferencer: BaseVideoInferencer, jobs: Sequence):
        self.inferencer, self.jobs = inferencer, jobs

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, index: int):
        video, text = self.jobs[index]
        item, error = self.inferencer.run_pipeline(index, video, text)
        return index, item, error


def _name(video: InputType, index: int) -> str:
    if isinstance(video, str):
        return video
    if isinstance(video, dict) and 'filename' in video:
        return video['filename']
    return f'<frames input {index}>'


def _progress(loader, show: bool):
    if not show:
        return loader
    from tqdm import tqdm
    return tqdm(loader, desc='videos', unit='batch', leave=False)
