"""Install stoavlp the OpenMMLab way.

``pip install -e .`` installs the runtime requirements (version ranges: an
existing environment's torch and compiled mmcv stay); extras follow the
OpenMMLab convention: ``.[tests]``, ``.[optional]``, ``.[tagger]`` (spaCy's
English model), ``.[mim]`` (the mm* packages, full mmcv), ``.[webui]``
(Gradio, for ``demo/webui.py``) and ``.[all]``. On install, ``tools/``,
``configs/`` and ``model-index.yml`` are also placed under ``stoavlp/.mim``
so that ``mim train stoavlp CONFIG`` can find them.
"""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version():
    version_file = 'stoavlp/version.py'
    with open(version_file, encoding='utf-8') as f:
        exec(compile(f.read(), version_file, 'exec'))
    return locals()['__version__']


def parse_requirements(fname):
    """Read requirement lines, following ``-r`` includes, skipping comments."""
    requirements = []
    with open(fname, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            if line.startswith('-r '):
                target = osp.join(osp.dirname(fname), line.split(' ', 1)[1])
                requirements.extend(parse_requirements(target))
            else:
                requirements.append(line)
    return requirements


def add_mim_extension():
    """Copy (or link, in develop mode) tools/configs into ``stoavlp/.mim``."""
    if 'develop' in sys.argv or '--editable' in sys.argv or any(
            'editable' in a for a in sys.argv):
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return

    filenames = ['tools', 'configs', 'model-index.yml']
    repo_path = osp.dirname(__file__)
    mim_path = osp.join(repo_path, 'stoavlp', '.mim')
    os.makedirs(mim_path, exist_ok=True)

    for filename in filenames:
        src_path = osp.join(repo_path, filename)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, filename)
        if osp.isfile(tar_path) or osp.islink(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)

        if mode == 'symlink':
            src_relpath = osp.relpath(src_path, osp.dirname(tar_path))
            try:
                os.symlink(src_relpath, tar_path)
            except OSError:
                mode = 'copy'
                warnings.warn(f'Failed to symlink {src_relpath} to '
                              f'{tar_path}; copying instead.')
        if mode == 'copy':
            if osp.isfile(src_path):
                shutil.copyfile(src_path, tar_path)
            else:
                shutil.copytree(src_path, tar_path)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='stoavlp',
        version=get_version(),
        description='STOA-VLP video-language pre-training as OpenMMLab '
        'components',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='video-language, pre-training, retrieval, captioning, QA',
        packages=find_packages(exclude=('configs', 'tools', 'tests',
                                        'projects', 'docs')),
        include_package_data=True,
        package_data={'stoavlp': ['.mim/**/*']},
        python_requires='>=3.10',  # torch 2.6+
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        # version ranges only: exact versions are tools/setup.sh's
        # (requirements/constraints.txt), never forced on a user's env
        extras_require={
            'all': parse_requirements('requirements/mminstall.txt') +
            parse_requirements('requirements/tagger.txt') +
            parse_requirements('requirements/optional.txt') +
            parse_requirements('requirements/webui.txt'),
            'tests': parse_requirements('requirements/tests.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
            'tagger': parse_requirements('requirements/tagger.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
            'webui': parse_requirements('requirements/webui.txt'),
        },
        zip_safe=False)
