"""browse_dataset.py draws samples after the whole pipeline."""
import importlib.util
import os.path as osp

from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_browse_dataset_writes_a_picture(demo_root, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'browse_dataset',
        osp.join(ROOT, 'tools', 'analysis_tools', 'browse_dataset.py'))
    browse = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browse)
    out = str(tmp_path / 'sheet.png')
    browse.main([
        osp.join(ROOT, 'configs', '_base_', 'datasets', 'demo',
                 'msrvtt_caption.py'), '--phase', 'test', '--num', '2',
        '--frames', '3', '--out', out, '--cfg-options',
        f'test_dataloader.dataset.data_root={demo_root}'
    ])
    assert '2 samples through the pipeline' in capsys.readouterr().out
    width, height = Image.open(out).size
    assert width >= 3 * 224 and height >= 2 * 224  # 2 rows of 3 frames
