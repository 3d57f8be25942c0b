"""Sphinx configuration of the fastw2v documentation (see docs/README.md for why Sphinx).

The build documents the *installed* fastw2v (``pip install ".[docs]"``, or an editable
install): the compiled modules must be importable, and nothing here puts the source tree on
``sys.path``. When a build starts, three pages' material is generated from the project itself
(see ``_ext/``): the CLI reference from the argparse parser, the API pages from the package's
public names, and the benchmark figures from ``bench/RESULTS.md``. No step reaches the network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import fastw2v

DOCS = Path(__file__).resolve().parent
REPOSITORY = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "fastw2v"
author = "the fastw2v authors"
copyright = "the fastw2v authors"  # noqa: A001 (the name Sphinx reads)
release = fastw2v.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]

exclude_patterns = ["_build", "_generated", "README.md"]
# Option names such as --hs must stay two hyphens, not become an en dash.
smartquotes = False
templates_path: list[str] = []

# --- autodoc and numpydoc
autodoc_default_options = {"member-order": "bysource"}
# Signatures carry the hints; the numpydoc sections describe the parameters in prose.
autodoc_typehints = "none"
# The class pages list their members through autodoc's :members:, not numpydoc's tables
# (which would ask for one stub page per method).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Docstrings refer to parameters as `name`; render that as emphasis, not a failed reference.
default_role = "obj"
numpydoc_xref_param_type = False

# --- HTML
html_theme = "furo"
html_title = f"fastw2v {release}"
html_static_path = ["_static"]
html_css_files = ["fastw2v.css"]
html_show_sourcelink = False

# MathJax is loaded by the reader's browser, never during the build. FASTW2V_DOCS_MATHJAX
# points it at a local copy instead (for reading the pages offline), e.g.
# file:///usr/share/javascript/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML (Debian's
# libjs-mathjax).
if os.environ.get("FASTW2V_DOCS_MATHJAX"):
    mathjax_path = os.environ["FASTW2V_DOCS_MATHJAX"]

# --- doctest (sphinx-build -b doctest): the examples of the narrative pages. The docstrings'
# examples are run where they have their module's names, by pytest --doctest-modules.
doctest_test_doctest_blocks = ""
doctest_global_setup = "import fastw2v"


def _generate(app: object) -> None:
    import api_pages
    import bench_data
    import cli_reference

    cli_reference.write(DOCS / "_generated" / "cli-reference.rst")
    api_pages.write(DOCS / "api" / "generated")
    bench_data.write(REPOSITORY / "bench" / "RESULTS.md", DOCS / "_generated" / "bench")


def setup(app: object) -> None:
    app.connect("builder-inited", _generate)  # type: ignore[attr-defined]
