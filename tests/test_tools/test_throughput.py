"""tools/analysis_tools/throughput.py on the toy config (CPU)."""
import importlib.util
import os.path as osp
import re

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_throughput_reports_clips_per_second_and_mfu(capsys):
    spec = importlib.util.spec_from_file_location(
        'throughput', osp.join(ROOT, 'tools', 'analysis_tools',
                               'throughput.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([
        osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                 'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py'),
        '--batch', '2', '--steps', '1', '--warmup', '1', '--peak-tflops',
        '1.0'
    ])
    out = capsys.readouterr().out
    clips = float(re.search(r'([\d.]+) clips/s', out)[1])
    tflops = float(re.search(r'([\d.e-]+) TFLOP/s', out)[1])
    mfu = float(re.search(r'MFU: ([\d.e-]+) %', out)[1])
    assert clips > 0 and tflops > 0
    assert abs(mfu - 100 * tflops / 1.0) <= 1e-3 * mfu  # peak 1 TFLOP/s
