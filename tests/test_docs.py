"""The API reference documents every public name, and the docs build is the one README states.

A name is public when it is in the ``__all__`` of a module whose dotted path has
no part starting with ``_``. It is documented when docs/api.rst lists it in an
``autosummary`` block, under its own module or under any module that exports
the same object (``skntl.TCA`` is satisfied by ``skntl.conventional.TCA``).
"""

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skntl

ROOT = Path(__file__).parents[1]
API = ROOT / "docs" / "api.rst"


def _public_modules():
    names = ["skntl"]
    for info in pkgutil.walk_packages(skntl.__path__, "skntl."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _documented_names():
    """Fully qualified names listed in the autosummary blocks of docs/api.rst."""
    names, module, in_block = [], None, False
    for line in API.read_text(encoding="utf-8").splitlines():
        directive = re.match(r"\.\. currentmodule:: (\S+)", line)
        if directive:
            module, in_block = directive.group(1), False
        elif line.startswith(".. autosummary::"):
            in_block = True
        elif in_block and line.strip() and not line.startswith(" "):
            in_block = False
        elif in_block and line.strip() and not line.strip().startswith(":"):
            assert module is not None, f"autosummary entry {line.strip()!r} before currentmodule"
            names.append(f"{module}.{line.strip()}")
    return names


def _resolve(fullname):
    """The object a dotted name points at (longest importable module prefix, then attributes)."""
    parts = fullname.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(fullname)


def test_api_reference_entries_exist():
    documented = _documented_names()
    assert len(documented) == len(set(documented)), "a name is listed twice in docs/api.rst"
    for name in documented:
        _resolve(name)  # raises on a stale entry


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_name_is_in_the_api_reference(module_name):
    module = importlib.import_module(module_name)
    public = getattr(module, "__all__", None)
    if public is None:
        pytest.skip(f"{module_name} has no __all__")
    documented = {name: _resolve(name) for name in _documented_names()}
    missing = [
        name for name in public
        if f"{module_name}.{name}" not in documented
        and not any(obj is getattr(module, name) for obj in documented.values())
    ]
    assert not missing, (
        f"public names of {module_name} missing from docs/api.rst: {missing}; add them to "
        "an autosummary block of the module's section"
    )


def test_ci_builds_the_docs_with_readmes_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs = readme.split("## Documentation", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    command = [line for line in docs.splitlines() if line.strip() and not line.startswith("#")]
    assert len(command) == 1 and "sphinx-build -W" in command[0]
    assert command[0].strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_gallery_folder_has_a_header_and_every_example_a_title():
    examples = ROOT / "examples"
    for folder in [examples, *[p for p in examples.iterdir() if p.is_dir()]]:
        if folder.name.startswith((".", "_")):
            continue
        assert (folder / "README.txt").is_file(), f"{folder} needs a README.txt gallery header"
    for script in examples.rglob("plot_*.py"):
        doc = script.read_text(encoding="utf-8").split('"""')[1].strip().splitlines()
        assert len(doc) >= 2 and set(doc[1]) == {"="} and len(doc[1]) >= len(doc[0]), (
            f"{script}: the docstring must start with an RST title (sphinx-gallery)"
        )


@pytest.mark.slow  # a fresh interpreter imports torch
def test_import_skntl_does_not_import_torch():
    """The deep methods load torch on first use: TCA, KMM and NTG users don't pay for it."""
    code = (
        "import sys, skntl\n"
        "assert 'torch' not in sys.modules\n"
        "assert skntl.DANN.__name__ == 'DANN' and 'torch' in sys.modules\n"
        "assert 'DANN' in dir(skntl)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
