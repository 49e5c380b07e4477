"""Sphinx configuration of the mmpre_inception docs (`make docs`)."""
import os
import sys

sys.path.insert(0, os.path.abspath('..'))

project = 'mmpre_inception'
author = 'mmpre_inception contributors'
copyright = '2026, mmpre_inception contributors'

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
exclude_patterns = ['_build']
myst_heading_anchors = 3
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
html_theme = 'alabaster'
# Links to repository files (configs/, tools/, tests/) are not pages.
suppress_warnings = ['myst.xref_missing']
