"""The command line the weight converters share (``clip_to_stoavlp.py``,
``hf_clip_to_stoavlp.py``, ``official_to_stoavlp.py``):

    python tools/model_converters/<tool>.py SRC DST [--config C] [--seed S]

converts SRC with the tool's function, writes DST with
:func:`stoavlp.models.utils.converters.save_converted` and prints the
report. Not a tool itself: the converters import it from this folder.
"""
import argparse
from typing import List, Optional


def parse_args(argv: Optional[List[str]], doc: str, src_help: str,
               default_config: str, tool: str) -> argparse.Namespace:
    """``SRC DST [--config] [--seed]``; ``doc`` is the tool's help text."""
    parser = argparse.ArgumentParser(
        prog=tool, description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help='stoavlp checkpoint to write (.pth)')
    parser.add_argument('--config', default=default_config,
                        help='stoavlp config whose model is filled '
                        '(default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random initialisation of the parts the source '
                        'has no weights for (default: 0)')
    return parser.parse_args(argv)


def converter_main(argv: Optional[List[str]], doc: str, src_help: str,
                   convert, default_config: str, tool: str):
    """Parse ``argv``, convert, write DST, print the report. Errors exit
    with a message naming the file or tensor.

    Args:
        convert: ``(src, config, seed) -> (state_dict, ConversionReport)``.

    Returns:
        ConversionReport: The report printed.
    """
    from stoavlp.models.utils.converters import save_converted
    args = parse_args(argv, doc, src_help, default_config, tool)
    try:
        state, report = convert(args.src, args.config, args.seed)
        save_converted(state, args.dst, report)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f'{tool}: error: {err}')
    print(report.format())
    print(f'Saved {args.dst}')
    return report
