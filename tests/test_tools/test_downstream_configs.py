"""Every demo task config trains one iteration and tests through MMEngine's
Runner on the demo data (real mp4 files): captioning, retrieval (the
feature-caching loop), multiple choice and QA."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

ROOT = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'stoavlp',
                'demo')
CONFIGS = {
    'caption': ('stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py',
                {'CIDEr', 'METEOR', 'ROUGE-L', 'BLEU-4'}),
    'retrieval': ('stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py',
                  {'t2v/R1', 't2v/R5', 't2v/R10', 't2v/MdR', 'v2t/R1'}),
    'mc': ('stoavlp_tiny-u8-res112_1xb16-3e_demo-mc.py', {'acc'}),
    'qa': ('stoavlp_tiny-u8-res112_1xb16-5e_demo-qa.py', {'acc'}),
}


def small(cfg, demo_root, work_dir):
    cfg.work_dir = work_dir
    cfg.load_from = None
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = None
    for name in ('train_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.batch_size, loader.num_workers = 4, 0
        loader.persistent_workers = False
        loader.dataset.data_root = loader.dataset.data_root.replace(
            'data/demo', demo_root)
        loader.dataset.indices = 8
    if cfg.model.get('qa_head'):
        # the test session's demo data (fewer clips than the full demo,
        # whose 22 distinct answers the config's classes are): all of its
        # training answers are the classes
        from stoavlp.datasets.answer_vocab import build_answer_vocab
        num_answers = len(build_answer_vocab(
            osp.join(demo_root, 'msrvtt_qa', 'train_qa.json'), 10**6))
        cfg.model.qa_head.num_classes = num_answers
        for name in ('train_dataloader', 'test_dataloader'):
            cfg[name].dataset.answer_vocab.size = num_answers
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('task', list(CONFIGS))
def test_demo_task_config_trains_and_tests(task, demo_root, tmp_path):
    name, keys = CONFIGS[task]
    cfg = small(Config.fromfile(osp.join(ROOT, name)), demo_root,
                str(tmp_path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    for key in keys:  # metric names carry the metric's prefix
        assert any(k == key or k.endswith('/' + key)
                   for k in metrics), (key, metrics)
    assert all(v == v for v in metrics.values())  # no NaN
