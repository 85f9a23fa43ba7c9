import pytest
import torch

from stoavlp.apis import init_model
from apis_helpers import CONFIGS, model_options, train_dataset_meta


@pytest.fixture(scope='session')
def checkpoints(tmp_path_factory, demo_root):
    """A seeded random tiny model per task, saved as its checkpoint; the
    QA one with the training dataset's metainfo (its answer names) as the
    Runner saves it."""
    out = tmp_path_factory.mktemp('ckpt')
    paths = {}
    for i, (task, config) in enumerate(CONFIGS.items()):
        torch.manual_seed(i)
        model = init_model(config, cfg_options=model_options(task, demo_root))
        paths[task] = str(out / f'{task}.pth')
        ckpt = dict(state_dict=model.state_dict())
        if task == 'qa':
            ckpt['meta'] = dict(
                dataset_meta=train_dataset_meta(task, demo_root))
        torch.save(ckpt, paths[task])
    return paths
