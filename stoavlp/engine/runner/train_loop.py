"""An epoch-based training loop that resumes in the middle of an epoch."""
from mmengine.runner import EpochBasedTrainLoop

from stoavlp.registry import LOOPS


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes where a killed run stopped.

    MMEngine's loop restarts an interrupted epoch from its first batch. After
    ``--resume`` from a checkpoint saved inside an epoch (``CheckpointHook``
    with ``by_epoch=False``), this loop skips the batches that epoch already
    trained. It skips by *loading* them (not training on them), so data
    workers draw the same random numbers (frame sampling, ...) as in the
    uninterrupted run, then ``RNGStateHook`` puts the main process's random
    state back to the saved one. With ``randomness=dict(deterministic=True)``
    and non-persistent workers, the resumed run repeats the uninterrupted
    one's losses.

    A streaming dataset (``VideoTextShardDataset``) has no sampler to
    re-seed: the loop gives it the epoch, batch size and seed before each
    epoch (with MMEngine's own loops, ``ShardEpochHook`` does).
    """

    def run_epoch(self) -> None:
        set_epoch = getattr(self.dataloader.dataset, 'set_epoch', None)
        if set_epoch is not None:
            set_epoch(self._epoch, self.dataloader.batch_size,
                      self.runner.seed)
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self._iter - self._epoch * len(self.dataloader)
        for idx, data_batch in enumerate(self.dataloader):
            if idx < done:
                continue  # trained before the interruption
            if idx == done and done > 0:
                restore = getattr(self.runner, 'restore_rng_state', None)
                if restore is not None:
                    restore()
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
