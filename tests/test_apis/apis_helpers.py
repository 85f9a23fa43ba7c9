"""Configs, models and videos shared by the inference API tests (the
checkpoints themselves: ``conftest.py``)."""
import importlib.util
import os.path as osp

from stoavlp.apis import init_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'stoavlp', 'demo')
CONFIGS = dict(
    caption=osp.join(DEMO, 'stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py'),
    retrieval=osp.join(DEMO,
                       'stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py'),
    qa=osp.join(DEMO, 'stoavlp_tiny-u8-res112_1xb16-5e_demo-qa.py'))


def load_tool(*path):
    spec = importlib.util.spec_from_file_location(
        osp.splitext(path[-1])[0] + '_tool', osp.join(ROOT, *path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def model_options(task, demo_root):
    if task != 'qa':
        return None
    return {'model.qa_head.answer_vocab.ann_file':
            osp.join(demo_root, 'msrvtt_qa', 'train_qa.json')}


def loader_options(demo_root, **dataset):
    out = {'test_dataloader.dataset.data_root': demo_root,
           'test_dataloader.num_workers': 0,
           'test_dataloader.persistent_workers': False}
    out.update({f'test_dataloader.dataset.{k}': v
                for k, v in dataset.items()})
    return out


def model_of(task, checkpoints, demo_root):
    return init_model(CONFIGS[task], checkpoints[task],
                      cfg_options=model_options(task, demo_root))


def demo_test_videos(demo_root, num=None):
    """Paths of the demo test split's videos (MSR-VTT 1k-A layout)."""
    import csv
    with open(osp.join(demo_root, 'MSRVTT_JSFUSION_test.csv')) as f:
        ids = [row['video_id'] for row in csv.DictReader(f)]
    return [osp.join(demo_root, 'videos', f'{v}.mp4') for v in ids][:num]
