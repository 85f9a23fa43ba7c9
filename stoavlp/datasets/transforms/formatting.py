"""Packing a pipeline result into model inputs and a data sample."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from stoavlp.registry import TRANSFORMS
from stoavlp.structures import VideoTextDataSample

DEFAULT_DATA_KEYS = ('token_ids', 'attention_mask', 'noun_mask', 'verb_mask',
                     'obj_boxes', 'obj_scores', 'obj_labels', 'obj_mask',
                     'obj_class_conf', 'obj_noun_index', 'mc_label',
                     'answer_label')
DEFAULT_META_KEYS = ('video_id', 'filename', 'sample_idx', 'text',
                     'gt_captions', 'question', 'answer', 'obj_classes',
                     'frame_inds', 'total_frames', 'original_shape',
                     'img_shape', 'flip', 'flip_direction', 'crop_quadruple',
                     'question_id', 'bad_samples', 'mc_option_kinds')


@TRANSFORMS.register_module()
class PackVideoTextInputs(BaseTransform):
    """Pack frames into ``inputs`` and everything else into a data sample.

    Required Keys:

        - imgs (list[np.ndarray] | np.ndarray): T frames ``(H, W, 3)`` uint8.

    Added Keys:

        - inputs (torch.Tensor): ``(T, 3, H, W)`` uint8, a view of
          channel-last memory (normalised later by the data preprocessor,
          on the device).
        - data_samples (VideoTextDataSample): present ``data_keys`` as
          tensors, present ``meta_keys`` as metainfo.

    Args:
        data_keys (Sequence[str]): Keys turned into tensors when present.
        meta_keys (Sequence[str]): Keys copied into metainfo when present.
    """

    def __init__(self,
                 data_keys: Sequence[str] = DEFAULT_DATA_KEYS,
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.data_keys = tuple(data_keys)
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        imgs = np.stack(results['imgs'])  # (T, H, W, 3), one copy
        # a (T, 3, H, W) view of channel-last memory: no second copy (the
        # data preprocessor makes the float copy on the device anyway)
        inputs = torch.from_numpy(imgs).permute(0, 3, 1, 2)
        sample = VideoTextDataSample()
        for key in self.data_keys:
            if key in results:
                sample.set_data({key: torch.as_tensor(np.asarray(results[key]))})
        sample.set_metainfo(
            {k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(data_keys={self.data_keys}, '
                f'meta_keys={self.meta_keys})')
