"""Every shell command in README.md and docs/ still matches the code: its
script exists, every configs/ path it names exists, and the script's own
argument parser accepts its options (placeholders such as CKPT stand for
files the reader brings). The commands that run on a CPU in seconds with
what the repository ships, and a checkpoint a test trains, run for real.
"""
import argparse
import glob
import importlib.util
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest
from helpers.tools import REPO, run_tool, same_threads

DOCUMENTS = ['README.md'] + sorted(
    osp.relpath(path, REPO) for path in glob.glob(osp.join(REPO, 'docs',
                                                           '*.md')))
# Words a reader replaces with their own files or cluster names.
PLACEHOLDERS = {'CKPT', 'CONFIG', 'IMAGE', 'WORK_DIR', 'PARTITION', 'JOB',
                'JOB_NAME'}
# Launch scripts: how many positional arguments come before the Python
# script's own, and which of them go to it (by index).
LAUNCHERS = {
    'tools/dist_train.sh': ('tools/train.py', 2, [0]),
    'tools/dist_test.sh': ('tools/test.py', 3, [0, 1]),
    'tools/slurm_train.sh': ('tools/train.py', 4, [2]),
    'tools/slurm_test.sh': ('tools/test.py', 4, [2, 3]),
}


def documented_commands():
    """(document, command words) for every command of every shell block,
    with the document's variable assignments (``S=...``) expanded."""
    commands = []
    for document in DOCUMENTS:
        with open(osp.join(REPO, document)) as f:
            text = f.read()
        variables = {}
        for block in re.findall(r'```(?:shell|bash|sh)\n(.*?)```', text,
                                re.S):
            for line in re.sub(r'\\\n', ' ', block).splitlines():
                words = shlex.split(line, comments=True)
                if not words:
                    continue
                if len(words) == 1 and re.fullmatch(r'\w+=.*', words[0]):
                    name, value = words[0].split('=', 1)
                    variables[name] = value
                    continue
                expanded = ' '.join(words)
                for name, value in variables.items():
                    expanded = expanded.replace(f'${name}', value)
                commands.append((document, shlex.split(expanded)))
    return commands


def python_invocation(words):
    """The Python script and its arguments that ``words`` runs, or None
    for a command that runs no script of ours (make)."""
    while words and (words[0] == 'time' or re.fullmatch(r'\w+=\S*',
                                                        words[0])):
        words = words[1:]
    if words[0] in ('make', 'pip', 'mim', 'source'):
        return None
    if words[0] == 'bash' and words[1] not in LAUNCHERS:
        return None  # a script of its own (benchmarks/gpu.sh)
    if words[0] == 'bash':
        script, launched = words[1], words[2:]
        target, count, passed = LAUNCHERS[script]
        return target, [launched[i] for i in passed] + launched[count:]
    assert words[0] in ('python', '.venv/bin/python'), words
    return words[1], words[2:]


class _Parsed(Exception):
    pass


def parse_with_the_scripts_parser(script, args, monkeypatch):
    """Run the script's ``main(args)`` until its parser has parsed them."""
    path = osp.join(REPO, script) if not osp.isabs(script) else script
    spec = importlib.util.spec_from_file_location(
        'documented_' + re.sub(r'\W', '_', script), path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as error:
        if (error.name or '').startswith('mmpre_inception'):
            raise  # our own code is broken, not an optional dependency
        pytest.skip(f'{script} needs {error.name}')  # e.g. TensorFlow
    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, argv=None, namespace=None):
        raise _Parsed(parse(parser, argv, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, 'parse_args',
                        parse_then_stop)
    with pytest.raises(_Parsed) as parsed:
        module.main(args)
    return parsed.value.args[0]


COMMANDS = documented_commands()


def test_the_documents_hold_commands():
    assert len(COMMANDS) > 30
    assert {document for document, _ in COMMANDS} >= {
        'README.md', 'docs/training.md', 'docs/model_zoo.md'}


@pytest.mark.parametrize('document, words', COMMANDS,
                         ids=[' '.join(w)[:60] for _, w in COMMANDS])
def test_documented_command_matches_the_code(document, words, monkeypatch):
    invocation = python_invocation(words)
    if invocation is None:
        check_other_command(document, words)
        return
    script, args = invocation
    if '.mim' in script:  # mmpretrain's own tool, installed with it
        import mmpretrain
        script = script.replace(
            '.venv/lib/python3.11/site-packages/mmpretrain',
            osp.dirname(mmpretrain.__file__))
    assert osp.isfile(osp.join(REPO, script)), f'{document}: {script}'
    for word in args:
        if word.startswith('configs/') or '/configs/' in word:
            path = word if osp.isabs(word) else osp.join(REPO, word)
            assert osp.isfile(path), f'{document}: {word}'
    if '.mim' in script:
        return  # mmpretrain's parser is mmpretrain's business
    monkeypatch.setattr(sys, 'argv', [script])
    parse_with_the_scripts_parser(script, args, monkeypatch)


def check_other_command(document, words):
    """make: the target exists. pip: what it installs is ours or named in
    requirements/. mim: the verb is one the wheel supports
    (tests/test_downstream.py runs them) and a config it names by file
    name is in the package."""
    if words[0] == 'bash':
        assert osp.isfile(osp.join(REPO, words[1])), f'{document}: {words}'
    elif words[0] == 'make':
        with open(osp.join(REPO, 'Makefile')) as f:
            assert re.search(rf'^{words[1]}:', f.read(), re.M), words
    elif words[0] == 'source':  # the environment the Makefile creates
        with open(osp.join(REPO, 'Makefile')) as f:
            assert words[1] == '.venv/bin/activate' and re.search(
                r'^VENV := \.venv$', f.read(), re.M), words
    elif words[0] == 'pip':
        assert words[1] == 'install', words
        requirements = ''
        for path in glob.glob(osp.join(REPO, 'requirements', '*.txt')):
            with open(path) as f:
                requirements += f.read()
        for name in words[2:]:
            if name.startswith('-'):
                continue  # -e, -r
            if name.endswith('.txt'):
                assert osp.isfile(osp.join(REPO, name)), name
                continue
            assert name in ('.', 'openmim') or re.search(
                rf'^{re.escape(name)}\b', requirements, re.M), \
                f'{document}: pip install {name}'
    else:
        assert words[1:3] in (['train', 'mmpre_inception'],
                              ['test', 'mmpre_inception'],
                              ['search', 'mmpre_inception']), words
        if words[1] in ('train', 'test'):
            found = glob.glob(osp.join(REPO, 'mmpre_inception', 'configs',
                                       '**', words[3]), recursive=True)
            assert len(found) == 1, f'{document}: {words[3]}'


@pytest.mark.slow
def test_image_demo_runs_as_the_readme_says_to_type_it(one_epoch_run):
    """The README's next step after the Quick start, typed as written in a
    shell with no Python environment of ours (``source``, then
    ``python``), with the checkpoint `make demo` would write replaced by
    the one a test trains (same network and classes)."""
    with open(osp.join(REPO, 'README.md')) as f:
        block = re.search(r'```shell\n(source \.venv.*?)```', f.read(),
                          re.S).group(1)
    block = block.replace('work_dirs/demo/epoch_3.pth',
                          osp.join(one_epoch_run, 'epoch_1.pth'))
    env = {'PATH': '/usr/bin:/bin', 'HOME': os.environ.get('HOME', '/root'),
           **same_threads()}
    result = subprocess.run(['bash', '-c', f'set -e\n{block}'], cwd=REPO,
                            env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(result.stdout.strip().splitlines()) == 5


@pytest.mark.slow
def test_publish_model_runs_as_documented(one_epoch_run, tmp_path):
    (words, ) = [words for _, words in COMMANDS
                 if 'tools/model_converters/publish_model.py' in words]
    script, args = python_invocation(words)
    args = [osp.join(one_epoch_run, 'epoch_1.pth') if arg.endswith(
        'epoch_100.pth') else str(tmp_path / arg) for arg in args]
    result = run_tool(script, *args)
    assert result.stdout.startswith(f'Published {tmp_path}/inception_v3-')
