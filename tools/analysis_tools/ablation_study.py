"""The Table 4 ladder at demo scale, over seeds, in one command.

    python tools/analysis_tools/ablation_study.py [--seeds 0 1 2]
        [--data data/demo] [--work-dir work_dirs/ablation]
        [--clip work_dirs/demo/clip/clip.pth] [--rows none base ... full]

Every row starts from the same tiny CLIP (stage 0 of the main job; trained
here on the data's training split when ``--clip`` does not exist), is
pre-trained with the row's parts (Table 4: Base, +Obj, +Obj+OTA,
+Obj+Act+OTA, full; plus "none", no STOA pre-training at all), then
fine-tuned and evaluated on retrieval (and multiple choice with the
retrieval model), captioning and QA, for each seed. Rows are the demo
configs with the parts of ``configs/stoavlp/ablations/table4_*.py`` dropped
(the same lines), at 2 frames a clip and short schedules counted in
iterations of batch 16 (pre-training 160, retrieval 46, captioning 84 at a
5x learning rate, QA 64; half warm-up, half cosine; the same wall time on
any dataset), two runs at a time on 2 cores, so that 6 rows x 3 seeds fit
in an hour (the wall time is printed under the table).

Any dataset in MSR-VTT's layout works (``--data``): ``MSRVTT_data.json``,
``MSRVTT_train.9k.csv``, ``MSRVTT_JSFUSION_test.csv``, ``msrvtt_qa/``,
``msrvtt_mc/msrvtt_mc_test.json`` (optional), ``videos/``, ``objects/``.
Pre-training uses the captions of the training split.

Writes ``<work-dir>/<row>/seed_<s>/metrics.json`` per run (finished runs are
skipped on a rerun), ``ablation.md`` (mean ± std over seeds, and each row's
difference from Base with the seeds it holds in) and ``ablation.png`` (bars
with error bars).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from ablation_report import LABELS, bar_chart, collect, markdown  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'stoavlp', 'demo')
CONFIGS = dict(
    clip='clip_tiny-u4-res112_1xb32-6e_demo-contrastive.py',
    pretrain='stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py',
    mechanism='stoavlp_tiny-u8-res112_1xb16-6e_demo-mechanism.py',
    retrieval='stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py',
    mc='stoavlp_tiny-u8-res112_1xb16-3e_demo-mc.py',
    caption='stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py',
    qa='stoavlp_tiny-u8-res112_1xb16-5e_demo-qa.py')
# The parts each Table 4 row drops (configs/stoavlp/ablations/table4_*.py);
# 'none' is not pre-trained at all.
TRAJECTORY, ACTION = ('video_encoder.trajectory_encoder',
                      'video_encoder.action_encoder')
ROWS = {
    'none': None,
    'base': {TRAJECTORY: None, ACTION: None, 'ota_loss': None,
             'asp_loss': None},
    'obj': {ACTION: None, 'ota_loss': None, 'asp_loss': None},
    'obj_ota': {ACTION: None, 'asp_loss': None},
    'obj_act_ota': dict(asp_loss=None),
    'full': dict(),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--rows', nargs='+', default=list(ROWS),
                        choices=list(ROWS))
    parser.add_argument('--data', default='data/demo')
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument('--clip', default='work_dirs/demo/clip/clip.pth',
                        help='tiny CLIP (stage 0); trained if missing')
    parser.add_argument('--frames', type=int, default=2)
    # iterations of batch 16, not epochs: the study's wall time does not
    # depend on the dataset's size or its captions per video
    parser.add_argument('--pretrain-iters', type=int, default=160)
    parser.add_argument('--retrieval-iters', type=int, default=46)
    parser.add_argument('--caption-iters', type=int, default=84)
    parser.add_argument('--qa-iters', type=int, default=64)
    parser.add_argument('--caption-lr', type=float, default=2.5e-3,
                        help='caption fine-tuning learning rate (the demo '
                        'config has 5e-4 for 3 epochs; 84 iterations at '
                        '5e-4 leave the language model at CIDEr 0)')
    parser.add_argument('--jobs', type=int, default=2,
                        help='runs at once, each with cores / jobs threads '
                        'and one data worker per loader (2 on 2 cores: the '
                        'single-run pipeline leaves a core partly idle)')
    parser.add_argument('--tasks', nargs='+',
                        default=['retrieval', 'caption', 'qa'],
                        choices=['retrieval', 'caption', 'qa'],
                        help='downstream tasks (MC comes with retrieval)')
    parser.add_argument('--run', nargs=2, metavar=('ROW', 'SEED'),
                        help=argparse.SUPPRESS)  # one run, in a subprocess
    parser.add_argument('--workers', type=int, default=2,
                        help=argparse.SUPPRESS)  # data workers of a run
    return parser.parse_args(argv)


# -- configs ---------------------------------------------------------------
def _replace(obj, old, new):
    """``obj`` with every string's ``old`` prefix replaced."""
    if isinstance(obj, dict):
        return type(obj)({k: _replace(v, old, new) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return type(obj)(_replace(v, old, new) for v in obj)
    if isinstance(obj, str) and obj.startswith(old):
        return new + obj[len(old):]
    return obj


def _set_frames(obj, frames):
    if isinstance(obj, dict):
        if obj.get('type') == 'UniformSample':
            obj['clip_len'] = frames
        for v in obj.values():
            _set_frames(v, frames)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _set_frames(v, frames)


def stage_config(name, args, work_dir, seed, row_parts, load_from=None,
                 iters=None):
    """The demo config ``name`` for this study: data root, frames, seed,
    iterations, the row's dropped parts, and the start (a checkpoint, or the
    tiny CLIP when ``load_from`` is None)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(DEMO, CONFIGS[name]))
    # no yapf formatting of the dumped/logged config: it costs ~5 s for
    # each of a run's six runners
    cfg = Config(_replace(cfg.to_dict(), 'data/demo', args.data),
                 format_python_code=False)
    _set_frames(cfg._cfg_dict, args.frames)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].num_workers = args.workers
            cfg[key].persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=10**6, max_keep_ckpts=1,
                                        save_last=True)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=20)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h['type'] in ('BadSampleHook', 'RNGStateHook')]
    if iters is not None:
        _iteration_schedule(cfg, iters)
    for key, value in (row_parts or {}).items():  # dotted model keys
        *path, last = key.split('.')
        node = cfg.model
        for name in path:
            node = node[name]
        if last in node:
            node[last] = value
    clip = osp.abspath(args.clip)
    cfg.load_from = load_from
    for part in (cfg.model.video_encoder.backbone, cfg.model.text_encoder):
        part['pretrained'] = clip if load_from is None else None
    if 'vtc_loss' in cfg.model and cfg.model.vtc_loss:
        cfg.model.vtc_loss['pretrained'] = clip if load_from is None \
            else None
    return cfg


def _iteration_schedule(cfg, iters):
    """``iters`` iterations: linear warm-up for half of them, then cosine
    to the demo schedule's floor (the shape the demo schedules take over one
    or two epochs: a shorter warm-up decays the rate sooner, and in 120
    pre-training iterations left MLM/PLM at 7.4 and captioning at CIDEr 0).
    """
    cosine = [s for s in cfg.param_scheduler
              if s['type'] == 'CosineAnnealingLR'][0]
    warmup = max(1, iters // 2)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
             end=warmup),
        dict(type='CosineAnnealingLR', T_max=iters - warmup,
             eta_min=cosine.get('eta_min', 0.0), by_epoch=False,
             begin=warmup, end=iters)]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters + 1)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        by_epoch=False, interval=iters,
                                        max_keep_ckpts=1)
    cfg.log_processor = dict(type='LogProcessor', window_size=20,
                             by_epoch=False)


def _train_test(cfg, test=True):
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test() if test else None
    return metrics, osp.join(cfg.work_dir, 'iter_%d.pth' %
                             cfg.train_cfg.max_iters)


def _test(cfg, checkpoint):
    from mmengine.runner import Runner
    cfg.load_from = checkpoint
    for part in (cfg.model.video_encoder.backbone, cfg.model.text_encoder):
        part['pretrained'] = None
    if cfg.model.get('vtc_loss'):
        cfg.model.vtc_loss['pretrained'] = None
    return Runner.from_cfg(cfg).test()


def one_run(args, row, seed):
    """Pre-train (unless 'none'), fine-tune and evaluate one (row, seed)."""
    import torch
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 0)) or
                          torch.get_num_threads())
    from stoavlp.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    parts = ROWS[row]
    out = osp.join(args.work_dir, row, f'seed_{seed}')
    start, metrics = time.time(), {}
    pretrained = None
    if parts is not None:
        cfg = stage_config('pretrain', args, osp.join(out, 'pretrain'), seed,
                           parts, iters=args.pretrain_iters)
        for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
            cfg[key] = None
        cfg.train_cfg.pop('val_begin', None)
        cfg.train_cfg.pop('val_interval', None)
        # pre-training pairs: the training split's captions (any MSR-VTT
        # layout dataset), as the retrieval config reads them
        retrieval = stage_config('retrieval', args, out, seed, parts)
        cfg.train_dataloader.dataset = retrieval.train_dataloader.dataset
        _, pretrained = _train_test(cfg, test=False)
        if parts.get('ota_loss', 'kept') is not None:
            mech = stage_config('mechanism', args,
                                osp.join(out, 'mechanism'), seed, parts)
            if osp.isfile(osp.join(args.data, 'msrvtt_mc',
                                   'msrvtt_mc_test.json')):
                # OTA / VTM on the test items (no probes: they need the
                # demo generator's truth)
                mech.test_dataloader.dataset = \
                    mech.test_dataloader.dataset.datasets[0]
                mech.test_evaluator = dict(type='PretrainMechanismMetric')
                metrics['mechanism'] = _test(mech, pretrained)
    for task, iters in (('retrieval', args.retrieval_iters),
                        ('caption', args.caption_iters),
                        ('qa', args.qa_iters)):
        if task not in args.tasks:
            continue
        cfg = stage_config(task, args, osp.join(out, task), seed, parts,
                           load_from=pretrained, iters=iters)
        if task == 'caption':
            cfg.optim_wrapper.optimizer.lr = args.caption_lr
        metrics[task], checkpoint = _train_test(cfg)
        if task == 'retrieval' and osp.isfile(
                osp.join(args.data, 'msrvtt_mc', 'msrvtt_mc_test.json')):
            mc = stage_config('mc', args, osp.join(out, 'mc'), seed, parts)
            metrics['mc'] = _test(mc, checkpoint)
    metrics['seconds'] = time.time() - start
    with open(osp.join(out, 'metrics.json'), 'w', encoding='utf-8') as f:
        json.dump(metrics, f, indent=1)


def ensure_clip(args):
    """Train the tiny CLIP on the data's training split when missing."""
    if osp.isfile(args.clip):
        return
    from mmengine.runner import Runner

    from stoavlp.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    print(f'{args.clip} missing: training the tiny CLIP (stage 0)')
    work_dir = osp.dirname(osp.abspath(args.clip))
    cfg = stage_config('clip', args, work_dir, 0, None)
    cfg.model.video_encoder.backbone.pretrained = None
    cfg.model.text_encoder.pretrained = None
    cfg.model.vtc_loss.pretrained = None
    retrieval = stage_config('retrieval', args, work_dir, 0, None)
    dataset = retrieval.train_dataloader.dataset
    dataset.pipeline = cfg.train_dataloader.dataset.pipeline
    cfg.train_dataloader.dataset = dataset
    cfg.custom_hooks.append(dict(type='ExportCLIPHook',
                                 out_file=osp.abspath(args.clip)))
    Runner.from_cfg(cfg).train()


def main(argv=None):
    args = parse_args(argv)
    for name in ('pretrain', 'retrieval', 'caption', 'qa'):
        if getattr(args, name + '_iters') < 6:
            raise SystemExit(f'--{name}-iters must be >= 6 (half warm-up, '
                             'then cosine decay)')
    if args.run:
        from stoavlp.compat import trusted_checkpoints
        with trusted_checkpoints():  # the checkpoints of its own stages
            one_run(args, args.run[0], int(args.run[1]))
        return
    os.makedirs(args.work_dir, exist_ok=True)
    start = time.time()
    ensure_clip(args)
    todo = [(row, seed) for seed in args.seeds for row in args.rows
            if not osp.isfile(osp.join(args.work_dir, row, f'seed_{seed}',
                                       'metrics.json'))]
    run_all(args, todo, start)
    table = collect(args.work_dir, args.rows, args.seeds)
    text = markdown(table, args.seeds)
    wall = time.time() - start
    text += (f'\n\n{len(todo)} runs in {wall / 60:.1f} min here '
             f'({args.frames} frames; iterations of batch 16: pre-training '
             f'{args.pretrain_iters}, retrieval {args.retrieval_iters}, '
             f'captioning {args.caption_iters} at lr {args.caption_lr}, QA '
             f'{args.qa_iters}; tasks '
             f'{" ".join(args.tasks)}, {args.jobs} runs at a time).\n')
    print(text)
    with open(osp.join(args.work_dir, 'ablation.md'), 'w',
              encoding='utf-8') as f:
        f.write(text)
    bar_chart(table, osp.join(args.work_dir, 'ablation.png'))
    print(f'table: {args.work_dir}/ablation.md, chart: '
          f'{args.work_dir}/ablation.png')


def run_all(args, todo, start):
    """Each (row, seed) of ``todo`` in its own subprocess, ``--jobs`` at a
    time; pre-trained rows first (the longest), progress as they finish."""
    todo = sorted(todo, key=lambda run: ROWS[run[0]] is None)
    jobs = max(1, args.jobs)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    workers = 2 if jobs == 1 else 1
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    running, done = {}, 0
    while todo or running:
        while todo and len(running) < jobs:
            row, seed = todo.pop(0)
            log = osp.join(args.work_dir, f'{row}_seed{seed}.log')
            with open(log, 'w') as f:
                proc = subprocess.Popen(
                    [sys.executable, osp.abspath(__file__), '--run', row,
                     str(seed), '--workers', str(workers)] +
                    _passthrough(args), stdout=f, stderr=subprocess.STDOUT,
                    cwd=os.getcwd(), env=env)
            running[proc] = (row, seed, log)
        time.sleep(2)
        for proc in [p for p in running if p.poll() is not None]:
            row, seed, log = running.pop(proc)
            if proc.returncode:
                for other in running:
                    other.terminate()
                raise SystemExit(f'{row} seed {seed} failed (exit '
                                 f'{proc.returncode}); see {log}')
            done += 1
            elapsed = time.time() - start
            left = elapsed / done * (len(todo) + len(running))
            print(f'[ablation {done}/{done + len(todo) + len(running)}] '
                  f'{LABELS[row]}, seed {seed} done (elapsed '
                  f'{elapsed / 60:.1f} min, about {left / 60:.0f} min '
                  'left)', flush=True)


def _passthrough(args):
    """The options of this study, for the per-run subprocesses."""
    return ['--data', args.data, '--work-dir', args.work_dir, '--clip',
            args.clip, '--frames', str(args.frames),
            '--pretrain-iters', str(args.pretrain_iters),
            '--retrieval-iters', str(args.retrieval_iters),
            '--caption-iters', str(args.caption_iters),
            '--qa-iters', str(args.qa_iters),
            '--caption-lr', str(args.caption_lr), '--tasks', *args.tasks]


if __name__ == '__main__':
    main()
