"""VideoTextVisualizationHook (tools/test.py --show-dir): every N-th test
sample drawn with its prediction."""
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
from PIL import Image

from stoavlp.engine.hooks import VideoTextVisualizationHook
from stoavlp.testing import synthetic_batch
from stoavlp.visualization import VideoTextVisualizer


def test_draws_predictions_every_interval_up_to_max(tmp_path):
    inputs, samples = synthetic_batch(5, frames=4, objects=3, classes=3,
                                      length=8, size=32)
    for i, sample in enumerate(samples):
        sample.set_metainfo(dict(video_id=f'video{i}', sample_idx=i,
                                 text=f'what is shown {i}',
                                 answer='dog', pred_answer='cat'))
    visualizer = VideoTextVisualizer(name=f'vis_{tmp_path.name}',
                                     save_dir=str(tmp_path / 'vis'))
    runner = SimpleNamespace(work_dir=str(tmp_path), visualizer=visualizer)
    hook = VideoTextVisualizationHook(out_dir='show', interval=2,
                                      max_samples=2)
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, dict(inputs=inputs[:3]), samples[:3])
    hook.after_test_iter(runner, 1, dict(inputs=inputs[3:]), samples[3:])
    hook.after_test_iter(runner, 2, dict(inputs=inputs), None)  # retrieval
    out = tmp_path / 'show'
    # samples 0, 2, 4 are every second one; at most 2 are drawn
    assert sorted(os.listdir(out)) == ['video0_0.png', 'video2_2.png']
    sheet = np.asarray(Image.open(out / 'video0_0.png'))
    assert sheet.ndim == 3 and sheet.shape[0] > 32
    lines = visualizer.draw_clip(inputs[0], samples[0])['lines']
    assert any('predicted answer: cat (truth: dog)' in line
               for line in lines)


def test_multiple_choice_lines_name_the_chosen_and_true_option():
    inputs, samples = synthetic_batch(1, frames=2, objects=2, classes=2,
                                      length=8, size=32)
    sample = samples[0]
    sample.set_metainfo(dict(video_id='v', text=['a dog', 'a cat'],
                             pred_label=1))
    sample.set_field(0, 'mc_label')
    visualizer = VideoTextVisualizer(name='vis_mc')
    lines = visualizer.draw_clip(inputs[0], sample)['lines']
    assert any('chosen: a cat (truth: a dog)' in line for line in lines)


def test_test_py_show_dir_adds_the_hook():
    import importlib.util
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        'test_tool', osp.join(root, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    from mmengine.config import Config
    cfg = tool.merge_args(Config(dict(test_evaluator=dict(type='X'))),
                          tool.parse_args(['c.py', 'k.pth', '--show-dir',
                                           'vis', '--show-interval', '5']))
    assert cfg.custom_hooks == [dict(type='VideoTextVisualizationHook',
                                     out_dir='vis', interval=5)]
