"""Write a trained tiny CLIP in OpenAI CLIP's checkpoint layout."""
import os
import os.path as osp

import torch
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class ExportCLIPHook(Hook):
    """After training, save ``model.clip_state_dict()`` to ``out_file``.

    The file holds tensors only (``visual.*``, the text tower's keys,
    ``logit_scale``), so ``pretrained=`` of the CLIP encoders reads it with
    ``weights_only=True`` like OpenAI's ``ViT-B-16.pt``. Written atomically
    (a temporary file, then a rename). Rank 0 only.

    Args:
        out_file (str): Relative paths are under the work dir. Defaults to
            ``'clip.pth'``.
    """

    priority = 'LOW'

    def __init__(self, out_file: str = 'clip.pth') -> None:
        self.out_file = out_file

    @master_only
    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        if not hasattr(model, 'clip_state_dict'):
            raise TypeError(f'ExportCLIPHook needs a model with '
                            f'clip_state_dict(), got {type(model).__name__}')
        path = self.out_file if osp.isabs(self.out_file) else osp.join(
            runner.work_dir, self.out_file)
        tmp = f'{path}.tmp{os.getpid()}'
        state = model.clip_state_dict()
        # says which MLP activation the towers use (read_clip_checkpoint)
        act = getattr(model.video_encoder.backbone, 'act', None)
        if act is not None:
            state['activation'] = act
        torch.save(state, tmp)
        os.replace(tmp, path)
        runner.logger.info(f'CLIP weights (OpenAI layout) written to {path}')
