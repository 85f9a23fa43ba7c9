"""Predictions drawn on their clips during testing (``tools/test.py
--show-dir``), mmaction2's ``VisualizationHook`` for video-text models."""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.dist import master_only
from mmengine.hooks import Hook
from PIL import Image

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class VideoTextVisualizationHook(Hook):
    """Draw test samples with their predictions: frames, boxes by
    trajectory and the text lines of ``VideoTextVisualizer.draw_clip``
    (ground truth, the generated caption, the predicted answer with the
    true one, the chosen multiple-choice option with the true one).

    Writes ``<out_dir>/<video_id>_<sample_idx>.png`` (and ``.gif`` with
    ``draw_gif``) for every ``interval``-th test sample, at most
    ``max_samples``. Loops that produce no per-sample predictions (the
    retrieval loop ranks the whole set at the end) draw nothing.

    Args:
        out_dir (str): Folder for the pictures (relative: under the work
            dir).
        interval (int): Every how many test samples one is drawn.
            Defaults to 1.
        max_samples (int): Pictures at most. Defaults to 100.
        max_frames (int, optional): Frames on a sheet. Defaults to 8.
        draw_gif (bool): Also write the frames as a GIF. Defaults to False.
    """

    priority = 'NORMAL'

    def __init__(self, out_dir: str, interval: int = 1,
                 max_samples: int = 100, max_frames: Optional[int] = 8,
                 draw_gif: bool = False) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.out_dir = out_dir
        self.interval = interval
        self.max_samples = max_samples
        self.max_frames = max_frames
        self.draw_gif = draw_gif
        self._seen = 0
        self._drawn = 0

    def before_test(self, runner) -> None:
        self._seen = self._drawn = 0
        if not osp.isabs(self.out_dir):
            self.out_dir = osp.join(runner.work_dir, self.out_dir)
        os.makedirs(self.out_dir, exist_ok=True)

    @master_only
    def after_test_iter(self, runner, batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        if not outputs or not isinstance(data_batch, dict):
            return
        from stoavlp.visualization.drawing import save_gif
        visualizer = runner.visualizer
        for video, sample in zip(data_batch['inputs'], outputs):
            self._seen += 1
            if (self._seen - 1) % self.interval or \
                    self._drawn >= self.max_samples:
                continue
            drawing = visualizer.draw_clip(video, sample,
                                           max_frames=self.max_frames)
            meta = sample.metainfo
            name = f'{meta.get("video_id", "sample")}_' \
                   f'{meta.get("sample_idx", self._seen - 1)}'
            Image.fromarray(drawing['sheet']).save(
                osp.join(self.out_dir, f'{name}.png'))
            if self.draw_gif:
                save_gif(drawing['frames'],
                         osp.join(self.out_dir, f'{name}.gif'),
                         visualizer.fps)
            self._drawn += 1
