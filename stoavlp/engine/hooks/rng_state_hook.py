"""Random-number state in checkpoints, for exact resumption."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the main process's Python, numpy and torch random states with
    every checkpoint and restore them when a run resumes.

    MMEngine re-seeds a resumed run from its seed, so everything random in
    the main process (dropout, and data sampling with ``num_workers=0``)
    would differ from the uninterrupted run. Restoring happens right before
    the first resumed iteration (``ResumableEpochBasedTrainLoop`` calls
    ``runner.restore_rng_state``), after the already-trained batches of the
    epoch have been skipped.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all()
            if torch.cuda.is_available() else None)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        # only when resuming: `load_from` starts a new run (fine-tuning)
        if state is None or not getattr(runner, '_resume', False):
            return

        def restore():
            random.setstate(state['python'])
            np.random.set_state(state['numpy'])
            torch.set_rng_state(state['torch'])
            if state['cuda'] is not None and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(state['cuda'])

        # Checkpoints written at the end of an epoch resume at the start of
        # the next one: restore now. Mid-epoch ones: after the skipped
        # batches (see ResumableEpochBasedTrainLoop).
        runner.restore_rng_state = restore
        restore()
