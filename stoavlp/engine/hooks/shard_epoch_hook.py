"""Tells a streaming dataset which epoch, batch size and seed to use."""
from mmengine.hooks import Hook

from stoavlp.registry import HOOKS


@HOOKS.register_module()
class ShardEpochHook(Hook):
    """Call ``train_dataloader.dataset.set_epoch(epoch, batch_size, seed)``
    before every training epoch.

    The streaming counterpart of MMEngine's ``DistSamplerSeedHook``: an
    ``IterableDataset`` has no sampler to re-seed, so without this every
    epoch would repeat the first one's order (``VideoTextShardDataset``
    raises instead). Persistent workers see the new epoch too (the dataset
    keeps it in shared memory).
    """

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_loop.dataloader
        dataset = loader.dataset
        if not hasattr(dataset, 'set_epoch'):
            raise TypeError(
                f'ShardEpochHook: {type(dataset).__name__} has no set_epoch; '
                'the hook is for VideoTextShardDataset')
        dataset.set_epoch(runner.train_loop.epoch, loader.batch_size,
                          runner.seed)
