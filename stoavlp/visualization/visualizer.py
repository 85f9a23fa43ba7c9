"""A registered visualizer for one video-text clip.

Letters: T frames, K boxes per frame, N trajectories, M action tokens,
L text length, s the integer upscaling of the frames in the pictures.
"""
import math
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.visualization import LocalVisBackend, Visualizer

from stoavlp.registry import TOKENIZERS, VISUALIZERS
from .drawing import (draw_boxes, draw_tracks, label_corner,
                      render_contact_sheet, save_gif)
from .palette import trajectory_colors

# Shown for a prediction OTA/ASP matched to t_CLS (the EOT feature): "no
# specific noun" for a trajectory, the empty action for an action token.
EMPTY_MATCH = 't_CLS'
UNMATCHED = '-'


def frames_to_hwc(video) -> np.ndarray:
    """``(T, 3, H, W)`` tensor/array (the packed input) or ``(T, H, W, 3)``
    array -> ``(T, H, W, 3)`` uint8 RGB array."""
    if isinstance(video, torch.Tensor):
        video = video.detach().cpu().numpy()
    video = np.asarray(video)
    if video.ndim != 4:
        raise ValueError(f'expected a (T, 3, H, W) or (T, H, W, 3) video, '
                         f'got {video.shape}')
    if video.shape[1] == 3 and video.shape[-1] != 3:
        video = video.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(video.clip(0, 255).astype(np.uint8))


def trajectory_tracks(boxes: np.ndarray, labels: np.ndarray,
                      mask: np.ndarray) -> Dict[int, np.ndarray]:
    """Box centres of every trajectory in frame order.

    Args:
        boxes: ``(T, K, 4)`` x1y1x2y2 pixels.
        labels: ``(T, K)`` trajectory (clip-local class) ids, -1 = none.
        mask: ``(T, K)`` visible boxes.

    Returns:
        dict: trajectory id -> ``(n, 3)`` rows ``(t, cx, cy)``.
    """
    tracks: Dict[int, list] = {}
    for t, k in zip(*np.nonzero(mask & (labels >= 0))):
        x1, y1, x2, y2 = boxes[t, k]
        tracks.setdefault(int(labels[t, k]), []).append(
            (t, (x1 + x2) / 2, (y1 + y2) / 2))
    return {i: np.array(sorted(rows)) for i, rows in sorted(tracks.items())}


def word_at(token_ids: Sequence[int], position: int, tokenizer) -> str:
    """The whole word whose BPE piece sits at ``position`` of ``token_ids``
    (``(L,)`` SOT + pieces + EOT); a word ends with a ``</w>`` piece."""
    ids = [int(i) for i in token_ids]
    special = (tokenizer.sot_token_id, tokenizer.eot_token_id,
               tokenizer.pad_token_id)
    pieces = tokenizer.hf_tokenizer.convert_ids_to_tokens(ids)
    start = end = position
    while start > 0 and ids[start - 1] not in special and \
            not pieces[start - 1].endswith('</w>'):
        start -= 1
    while end + 1 < len(ids) and ids[end + 1] not in special and \
            not pieces[end].endswith('</w>'):
        end += 1
    return tokenizer.decode(ids[start:end + 1])


def match_words(explanation: dict, tokenizer) -> Dict[str, Dict[int, str]]:
    """The words OTA/ASP matched, from one sample of
    ``STOAVLPPretrainer.explain``.

    Returns:
        dict: ``trajectory`` {trajectory id: noun | 't_CLS'} and ``action``
        {action id: verb | 't_CLS'}; unmatched predictions are absent.
    """
    ids, eot = explanation['token_ids'], explanation['eot_index']
    out = {}
    for kind, pred_key, token_key in (('trajectory', 'ota_trajectory',
                                       'ota_token'),
                                      ('action', 'asp_action', 'asp_token')):
        out[kind] = {}
        if pred_key not in explanation:
            continue
        for pred, token in zip(explanation[pred_key].tolist(),
                               explanation[token_key].tolist()):
            out[kind][pred] = EMPTY_MATCH if token == eot else word_at(
                ids, token, tokenizer)
    return out


@VISUALIZERS.register_module()
class VideoTextVisualizer(Visualizer):
    """Draw a clip with its trajectories, OTA/ASP matches and captions.

    :meth:`add_datasample` writes through the vis backends: a contact
    sheet (``add_image``: a PNG with a ``LocalVisBackend``, an image in
    TensorBoard with a ``TensorboardVisBackend``) and an animated GIF of the
    frames with boxes (:meth:`add_video`). The sheet shows

    - the sampled frames, upscaled ``s`` times, with every visible box in
      its trajectory's colour (one colour per clip-local class, the same in
      every frame, as ``browse_dataset.py``), labelled with the class and
      the noun OTA matched to the trajectory;
    - each trajectory's track, its box centres over time, over the middle
      frame;
    - the caption, the generated caption of a captioning model
      (``pred_caption`` metainfo) and, per trajectory / action token, the
      noun / verb OTA / ASP matched (``t_CLS`` for the empty match).

    Args:
        name (str): Instance name. Defaults to ``'visualizer'``.
        vis_backends (list[dict], optional): e.g.
            ``[dict(type='LocalVisBackend')]``.
        save_dir (str, optional): Backends' directory (``/vis_data`` is
            appended, as MMEngine's ``Visualizer``).
        tokenizer (dict | CLIPTokenizer, optional): Decodes matched tokens;
            give the dataset's. Defaults to ``dict(type='CLIPTokenizer')``,
            built when first needed.
        scale (int, optional): Frame upscaling ``s``; None picks the
            smallest integer making the short side at least ``min_size``.
        min_size (int): Defaults to 224.
        fps (float): GIF frame rate. Defaults to 4.
        font_size (int): Defaults to 11.
        **kwargs: Passed to ``Visualizer``.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 tokenizer=None,
                 scale: Optional[int] = None,
                 min_size: int = 224,
                 fps: float = 4,
                 font_size: int = 11,
                 **kwargs) -> None:
        super().__init__(name=name, vis_backends=vis_backends,
                         save_dir=save_dir, **kwargs)
        self._tokenizer = tokenizer
        self.scale, self.min_size = scale, min_size
        self.fps, self.font_size = fps, font_size

    @property
    def tokenizer(self):
        """The tokenizer object (built from its config on first use)."""
        if self._tokenizer is None or isinstance(self._tokenizer, dict):
            self._tokenizer = TOKENIZERS.build(
                self._tokenizer or dict(type='CLIPTokenizer'))
        return self._tokenizer

    def draw_clip(self, video, data_sample, explanation: Optional[dict] = None,
                  max_frames: Optional[int] = None) -> dict:
        """Draw one clip (no backend involved).

        Args:
            video: ``(T, 3, H, W)`` uint8 (the packed input) or
                ``(T, H, W, 3)``.
            data_sample (VideoTextDataSample): With ``obj_boxes (T, K, 4)``,
                ``obj_labels (T, K)``, ``obj_mask (T, K)`` (optional) and
                metainfo ``obj_classes``, ``text``, ``video_id``,
                ``pred_caption`` (all optional).
            explanation (dict, optional): One sample of
                ``STOAVLPPretrainer.explain``.
            max_frames (int, optional): Frames on the sheet (evenly
                spaced); the GIF always has all T.

        Returns:
            dict: ``sheet (H_s, W_s, 3)``; ``frames (T, s*H, s*W, 3)`` with
            boxes (the GIF); ``shown (F,)`` frame indices on the sheet,
            ``frame_origins`` their ``(x, y)`` sheet positions; ``scale``;
            ``colors`` (RGB per trajectory id); ``trajectory_words`` /
            ``action_words`` ({id: matched word}); ``lines`` (the text).
        """
        frames = frames_to_hwc(video)
        t, h, w = frames.shape[:3]
        scale = self.scale or max(1, math.ceil(self.min_size / min(h, w)))
        frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
        meta = data_sample.metainfo
        classes = list(meta.get('obj_classes', []))
        if 'obj_boxes' in data_sample:
            boxes = data_sample.obj_boxes.cpu().numpy().astype(np.float64)
            labels = data_sample.obj_labels.cpu().numpy()
            mask = data_sample.obj_mask.cpu().numpy().astype(bool)
        else:
            boxes, labels = np.zeros((t, 0, 4)), np.zeros((t, 0), np.int64)
            mask = np.zeros((t, 0), bool)
        tracks = trajectory_tracks(boxes, labels, mask)
        colors = trajectory_colors(
            max([len(classes)] + [i + 1 for i in tracks]))
        words = match_words(explanation, self.tokenizer) \
            if explanation is not None else dict(trajectory={}, action={})

        def name_of(i):
            return classes[i] if i < len(classes) else f'object {i}'

        def box_label(i):
            if explanation is None or 'ota_trajectory' not in explanation:
                return name_of(i)
            return f'{name_of(i)}: {words["trajectory"].get(i, UNMATCHED)}'

        drawn = []
        thickness = max(1, scale)
        for f in range(t):
            keep = mask[f] & (labels[f] >= 0)
            ids = labels[f][keep].tolist()
            # the frame number also keeps GIF frames distinct (Pillow
            # merges identical consecutive ones)
            drawn.append(label_corner(draw_boxes(
                frames[f], boxes[f][keep] * scale,
                [box_label(i) for i in ids], [colors[i] for i in ids],
                thickness=thickness, font_size=self.font_size),
                f'{f + 1}/{t}', self.font_size))
        drawn = np.stack(drawn)
        shown = np.unique(np.round(np.linspace(
            0, t - 1, min(max_frames or t, t))).astype(int))

        middle = (frames[t // 2].astype(np.float32) * 0.45).astype(np.uint8)
        track_img = draw_tracks(
            middle, [track[:, 1:] * scale for track in tracks.values()],
            [colors[i] for i in tracks], [name_of(i) for i in tracks],
            width=max(2, scale), font_size=self.font_size)
        if 'mc_label' in data_sample:  # a data field: the true option
            meta = dict(meta, mc_label=int(data_sample.mc_label))
        lines = self._caption_lines(meta, explanation)
        lines += self._match_lines(tracks, t, name_of, words, explanation,
                                   data_sample)
        sheet, origins = render_contact_sheet(
            [dict(frames=[drawn[f] for f in shown], text=lines[0]),
             dict(frames=[track_img], text='\n'.join(lines[1:]))],
            font_size=self.font_size + 1)
        return dict(sheet=sheet, frames=drawn, shown=shown,
                    frame_origins=origins[0], track_origin=origins[1][0],
                    scale=scale, colors=colors,
                    trajectory_words=words['trajectory'],
                    action_words=words['action'], lines=lines)

    def _caption_lines(self, meta: dict, explanation: Optional[dict]
                       ) -> List[str]:
        """First line: id and caption(s); then the generated caption and
        the text the matches were made against."""
        text = meta.get('text', '')
        if not isinstance(text, str):
            text = (text[0] if text else '') + (
                f'  (+{len(text) - 1} more)' if len(text) > 1 else '')
        head = f'{meta.get("video_id", "")}  caption: {text}'
        if meta.get('pred_caption') is not None:
            head += f'\ngenerated: {meta["pred_caption"]}'
        if meta.get('pred_answer') is not None:  # QA: text is the question
            head += f'\npredicted answer: {meta["pred_answer"]}'
            if meta.get('answer') is not None:
                head += f' (truth: {meta["answer"]})'
        options = meta.get('text')
        if meta.get('pred_label') is not None and isinstance(options, list):
            head += f'\nchosen: {options[meta["pred_label"]]}'
            truth = meta.get('mc_label')
            if truth is not None and 0 <= int(truth) < len(options):
                head += f' (truth: {options[int(truth)]})'
        if explanation is not None:
            matched = self.tokenizer.decode(explanation['token_ids'])
            if matched != text:
                head += f'\nmatched against: {matched}'
        return [head]

    @staticmethod
    def _match_lines(tracks: dict, num_frames: int, name_of, words: dict,
                     explanation: Optional[dict], data_sample) -> List[str]:
        """One line per trajectory (and its OTA noun), one per action token
        (and its ASP verb)."""
        conf = data_sample.obj_class_conf.tolist() \
            if 'obj_class_conf' in data_sample else []
        lines = []
        for i, track in tracks.items():
            line = f'trajectory {i} {name_of(i)}: in {len(track)}/' \
                   f'{num_frames} frames'
            if i < len(conf):
                line += f', confidence {conf[i]:.1f}'
            if explanation is not None and 'ota_trajectory' in explanation:
                line += f'; OTA -> {words["trajectory"].get(i, UNMATCHED)}'
            lines.append(line)
        if not tracks:
            lines.append('no trajectories')
        if explanation is not None and 'asp_action' in explanation:
            for j in range(explanation['num_actions']):
                lines.append(f'action token {j}: ASP -> '
                             f'{words["action"].get(j, UNMATCHED)}')
        return lines

    @master_only
    def add_datasample(self,
                       name: str,
                       video=None,
                       data_sample=None,
                       explanation: Optional[dict] = None,
                       draw_gif: bool = True,
                       max_frames: Optional[int] = None,
                       show: bool = False,
                       wait_time: float = 0,
                       step: int = 0) -> dict:
        """Draw a clip (:meth:`draw_clip`) and write it through the
        backends: the sheet as an image, the frames as a GIF.

        Args:
            name (str): Identifier, e.g. the video id (a local backend
                writes ``<name>_<step>.png`` / ``.gif``).
            video: ``(T, 3, H, W)`` uint8 or ``(T, H, W, 3)``.
            data_sample (VideoTextDataSample): See :meth:`draw_clip`.
            explanation (dict, optional): ``STOAVLPPretrainer.explain``
                output of this sample.
            draw_gif (bool): Also write the GIF. Defaults to True.
            max_frames (int, optional): Frames on the sheet.
            show (bool): Also show the sheet in a window.
            wait_time (float): Seconds the window stays.
            step (int): Global step.

        Returns:
            dict: The :meth:`draw_clip` result.
        """
        drawing = self.draw_clip(video, data_sample, explanation, max_frames)
        self.add_image(name, drawing['sheet'], step)
        if draw_gif:
            self.add_video(name, drawing['frames'], step)
        if show:
            self.show(drawing['sheet'], win_name=name, wait_time=wait_time)
        return drawing

    @master_only
    def add_video(self, name: str, frames: np.ndarray, step: int = 0,
                  fps: Optional[float] = None) -> None:
        """Write ``(T, H, W, 3)`` uint8 RGB frames through the backends.

        Local backends get ``<img_save_dir>/<name>_<step>.gif`` written with
        Pillow (mmaction2's ``add_video`` needs moviepy); others get
        ``add_video`` where they have it (a warning when it fails for a
        missing package).
        """
        fps = fps or self.fps
        for backend in self._vis_backends.values():
            if isinstance(backend, LocalVisBackend):
                backend.experiment  # noqa: B018 (creates the save dir)
                save_gif(frames, osp.join(backend._img_save_dir,
                                          f'{name}_{step}.gif'), fps)
            elif hasattr(backend, 'add_video'):
                try:
                    backend.add_video(name, frames, step=step, fps=fps)
                except ImportError as error:
                    warnings.warn(f'{type(backend).__name__} wrote no video '
                                  f'for {name}: {error}')
