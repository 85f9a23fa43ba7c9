"""stoavlp.models sits below stoavlp.utils (which registers every part):
no module of stoavlp/models imports stoavlp.utils."""
import ast
import glob
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def imported_modules(path):
    """Absolute names of the modules a file imports (relative imports
    resolved against its package)."""
    package = osp.relpath(osp.dirname(path), ROOT).replace(osp.sep, '.')
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1])
                name = f'{base}.{node.module}' if node.module else base
            else:
                name = node.module
            yield name
            yield from (f'{name}.{alias.name}' for alias in node.names)


def test_models_do_not_import_stoavlp_utils():
    files = glob.glob(osp.join(ROOT, 'stoavlp', 'models', '**', '*.py'),
                      recursive=True)
    assert files
    upward = sorted(
        f'{osp.relpath(path, ROOT)}: {name}' for path in files
        for name in imported_modules(path)
        if name == 'stoavlp.utils' or name.startswith('stoavlp.utils.'))
    assert upward == []
