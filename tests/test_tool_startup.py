"""Every tool answers ``--help`` before importing torch or mmpretrain: its
module-level imports and its argument parsing stay light (the heavy ones
happen after parsing, inside ``apis.cli.command_line``). No time is
measured; the check lists what is imported."""
import glob
import os.path as osp
import subprocess
import sys

from helpers.tools import REPO

HEAVY = ('torch', 'torchvision', 'mmpretrain', 'mmcv', 'timm', 'cv2',
         'matplotlib', 'tensorflow', 'onnx', 'safetensors')

CHECK = '''
import contextlib, importlib.util, io, sys
heavy = {heavy!r}
for path in {tools!r}:
    spec = importlib.util.spec_from_file_location('tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            module.parse_args(['--help'])
        except SystemExit:
            pass
    loaded = sorted(name for name in heavy if name in sys.modules)
    print(path + '\\t' + (' '.join(loaded) or '-'))
'''


def test_no_tool_imports_a_heavy_module_before_parsing_its_arguments():
    tools = sorted(glob.glob(osp.join(REPO, 'tools', '**', '*.py'),
                             recursive=True) +
                   glob.glob(osp.join(REPO, 'demo', '*.py')) +
                   glob.glob(osp.join(REPO, 'benchmarks', '*.py')))
    assert len(tools) == 18
    result = subprocess.run(
        [sys.executable, '-c', CHECK.format(heavy=HEAVY, tools=tools)],
        cwd=REPO, capture_output=True, text=True, check=True)
    lines = dict(line.split('\t') for line in result.stdout.splitlines())
    heavy = {osp.relpath(tool, REPO): modules
             for tool, modules in lines.items() if modules != '-'}
    assert not heavy, heavy
    assert len(lines) == len(tools)


# What tools may import of ours: the public API and the pieces every user
# of the package sees (errors, registries, the analysis layer on top).
PUBLIC = ('mmpre_inception', 'mmpre_inception.apis', 'mmpre_inception.errors',
          'mmpre_inception.registry', 'mmpre_inception.analysis')


def test_tools_import_only_the_public_api():
    """The contract .importlinter cannot state (tools/ is not a package):
    tools -> apis, never the layers' internals."""
    import ast
    tools = sorted(glob.glob(osp.join(REPO, 'tools', '**', '*.py'),
                             recursive=True) +
                   glob.glob(osp.join(REPO, 'demo', '*.py')))
    internal = []
    for tool in tools:
        with open(tool) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [
                alias.name for alias in node.names] if isinstance(
                    node, ast.Import) else []
            for name in names:
                if name and name.split('.')[0] == 'mmpre_inception' and \
                        not any(name == p or name.startswith(p + '.')
                                for p in PUBLIC[1:]) and name != PUBLIC[0]:
                    internal.append(f'{osp.relpath(tool, REPO)}: {name}')
    assert not internal, internal
