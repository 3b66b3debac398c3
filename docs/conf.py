"""Sphinx configuration for the skntl documentation.

Build (from the repository root, offline; README.md, "Documentation")::

    pip install -e ".[docs]" && sphinx-build -W -b html docs docs/_build/html

The example gallery (``examples/``) is executed during the build by
sphinx-gallery.  ``SKNTL_GALLERY=1`` (set below) tells each example to use its
quick settings, so that the whole gallery runs in about two minutes on two CPU
cores; the full studies are run from the command line and their committed
outputs are shown on the example pages.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's skntl, also without `pip install -e .`

# Read by every example: quick settings for the gallery (see each example's docstring).
os.environ["SKNTL_GALLERY"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
# One BLAS/OpenMP thread unless the caller says otherwise, set before numpy is
# imported: the examples' matrices are small, and on two shared cores extra
# BLAS threads only contend (a logistic regression on Office-Caltech10 fitted
# 17x slower with two OpenBLAS threads on a busy machine than with one).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import skntl  # noqa: E402

# -- Project -----------------------------------------------------------------

project = "skntl"
author = "skntl developers"
copyright = "2026, skntl developers"
release = skntl.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
language = "en"
# No intersphinx: the build must not touch the network.  References to
# scikit-learn, numpy or torch objects render as plain code.

# -- autodoc / autosummary / numpydoc ---------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # the numpydoc "Parameters" sections carry the types
autodoc_member_order = "bysource"

numpydoc_show_class_members = False  # members are documented by the class template
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document on a class page only the members written in skntl.

    The class template lists inherited members too, so that each deep method's
    page shows what it inherits from ``TransferNet`` (``predict_weights``, ...)
    and each estimator what it inherits from skntl's mixins; members that come
    from scikit-learn, skorch, torch or the standard library (``get_params``,
    the metadata-routing ``set_*_request`` methods, skorch's training seams,
    tuple methods) are documented by those projects and left out here.
    """
    if what != "class":
        return None
    target = getattr(obj, "fget", obj)  # properties: where their getter lives
    target = getattr(target, "__func__", target)  # class and static methods
    module = getattr(target, "__module__", None)
    if callable(target) or isinstance(obj, property):
        if not (isinstance(module, str) and module.split(".")[0] == "skntl"):
            return True
    return None


def setup(app):
    """Connect the member filter (Sphinx calls this after reading the configuration)."""
    app.connect("autodoc-skip-member", _skip_foreign_members)


# -- sphinx-gallery ------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py is executed
    "within_subsection_order": "FileNameSortKey",
    # the committed outputs of the full studies (examples/deep/*.txt) are copied
    # next to the generated pages, which include them with `literalinclude`
    "copyfile_regex": r"plot_.*\.txt$",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skntl",),
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 0,
}

# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skntl {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": False,
    "icon_links": [],  # nothing fetched or linked off-site
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {"index": []}
html_show_sourcelink = True
html_last_updated_fmt = None
