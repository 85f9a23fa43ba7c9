"""Print a config with its ``_base_`` files merged (mmaction2's tool).

    python tools/analysis_tools/print_config.py CONFIG [--cfg-options k=v]
        [--save-path merged.py]
"""
import argparse

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--save-path', help='also write the merged config '
                        '(.py, .json or .yaml)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.save_path:
        cfg.dump(args.save_path)
        print(f'written to {args.save_path}')
    return cfg


if __name__ == '__main__':
    main()
