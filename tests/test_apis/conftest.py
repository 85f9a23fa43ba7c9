import pytest
import torch

from stoavlp.apis import init_model
from apis_helpers import CONFIGS, model_options


@pytest.fixture(scope='session')
def checkpoints(tmp_path_factory, demo_root):
    """A seeded random tiny model per task, saved as its checkpoint."""
    out = tmp_path_factory.mktemp('ckpt')
    paths = {}
    for i, (task, config) in enumerate(CONFIGS.items()):
        torch.manual_seed(i)
        model = init_model(config, cfg_options=model_options(task, demo_root))
        paths[task] = str(out / f'{task}.pth')
        torch.save(dict(state_dict=model.state_dict()), paths[task])
    return paths
