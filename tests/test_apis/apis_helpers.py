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


def num_answers(demo_root):
    """The distinct training answers of the test session's demo data (fewer
    clips than the full demo, whose 22 the QA config's classes are): the
    QA model's classes in these tests."""
    from stoavlp.datasets.answer_vocab import build_answer_vocab
    return len(build_answer_vocab(
        osp.join(demo_root, 'msrvtt_qa', 'train_qa.json'), 10**6))


def model_options(task, demo_root):
    """QA: the head sized to the test demo data's answers."""
    if task != 'qa':
        return None
    return {'model.qa_head.num_classes': num_answers(demo_root)}


def train_dataset_meta(task, demo_root):
    """The training dataset's metainfo, which MMEngine's Runner saves in
    its checkpoints as ``meta.dataset_meta`` (QA: the answer names, which
    ``init_model`` gives the model)."""
    from mmengine.config import Config

    from stoavlp.registry import DATASETS
    cfg = Config.fromfile(CONFIGS[task])
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = demo_root
    if task == 'qa':
        dataset.answer_vocab.size = num_answers(demo_root)
    return DATASETS.build(dataset).metainfo


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


def first_test_item(model, config, demo_root, **dataset):
    """The first item of a config's test dataset on the demo data (with
    ``dataset`` overrides) and that item as the model's data preprocessor
    makes it a batch of one: what evaluation feeds the model."""
    from mmengine.config import Config

    from stoavlp.registry import DATASETS
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    cfg.test_dataloader.dataset.data_root = demo_root
    cfg.test_dataloader.dataset.update(dataset)
    item = DATASETS.build(cfg.test_dataloader.dataset)[0]
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]))
    return item, data
