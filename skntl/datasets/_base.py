"""Where skntl looks for data files, and how it reads them safely.

Real domain-adaptation benchmarks are too large to ship with the package, so
loaders read them from one *data home* folder.  Its location is resolved, in
order, from the ``data_home`` argument, the ``SKNTL_DATA`` environment
variable, and finally ``~/skntl_data``.  Nothing here downloads anything and
nothing is ever unpickled.
"""

import os
from pathlib import Path

import numpy as np
import scipy.io

__all__ = ["get_data_home"]

#: Environment variable that points to the data home folder.
DATA_ENV_VAR = "SKNTL_DATA"

_DEFAULT_DATA_HOME = "~/skntl_data"


def _resolve_data_home(data_home=None):
    """Return ``(path, origin)``: the data home and a phrase saying where it came from.

    ``origin`` is used in error messages only.  An empty ``SKNTL_DATA`` counts
    as unset.
    """
    if data_home is not None:
        return Path(os.fspath(data_home)).expanduser(), "the data_home argument"
    env = os.environ.get(DATA_ENV_VAR, "")
    if env:
        return Path(env).expanduser(), f"the {DATA_ENV_VAR} environment variable"
    return Path(_DEFAULT_DATA_HOME).expanduser(), f"the default {_DEFAULT_DATA_HOME}"


def _data_home_is_set(data_home=None):
    """Whether the user chose a data home (argument or non-empty ``SKNTL_DATA``)."""
    return data_home is not None or bool(os.environ.get(DATA_ENV_VAR, ""))


def get_data_home(data_home=None):
    """Return the folder in which skntl looks for benchmark data files.

    The folder is resolved in this order:

    1. the ``data_home`` argument, when it is not None;
    2. the ``SKNTL_DATA`` environment variable, when it is set and not empty;
    3. ``~/skntl_data``.

    A leading ``~`` is expanded.  The folder is neither created nor checked
    for existence: skntl only reads data, it never downloads any.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit data folder.  It takes precedence over ``SKNTL_DATA``.

    Returns
    -------
    data_home : pathlib.Path
        The resolved data folder.

    See Also
    --------
    load_office_caltech : Office-Caltech10 loader that reads from this folder.

    Examples
    --------
    >>> from skntl.datasets import get_data_home
    >>> get_data_home("/data/benchmarks").as_posix()
    '/data/benchmarks'
    """
    return _resolve_data_home(data_home)[0]


def _locate(relative_path, data_home=None, hint=""):
    """Return ``data_home / relative_path``, or raise a helpful FileNotFoundError.

    Parameters
    ----------
    relative_path : str
        Path of the file inside the data home, with ``/`` separators.
    data_home : str or path-like, default=None
        Passed to :func:`get_data_home`.
    hint : str, default=""
        Extra sentence appended to the error message (e.g. which ``fetch_*``
        function downloads the file).

    Returns
    -------
    path : pathlib.Path
        The existing file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.  The message names the path that was
        tried, where the data home came from, and how to change it.
    """
    home, origin = _resolve_data_home(data_home)
    return _find_first(
        [home.joinpath(*relative_path.split("/"))],
        Path.is_file,
        f"the data file {relative_path!r}",
        f"(data home {home}, taken from {origin}). Pass data_home= or set the "
        f"{DATA_ENV_VAR} environment variable to the folder that contains "
        f"{relative_path!r}.{(' ' + hint) if hint else ''}",
    )


def _find_first(candidates, exists, what, advice):
    """Return the first of ``candidates`` for which ``exists(path)`` holds.

    Otherwise raise a ``FileNotFoundError`` saying "Could not find {what}.",
    listing every candidate, one a line, then ``advice``. ``exists`` is
    ``Path.is_file`` or ``Path.is_dir``.
    """
    for path in candidates:
        if exists(path):
            return path
    looked = "\n".join(f"  {p}" for p in candidates)
    raise FileNotFoundError(f"Could not find {what}. Looked in:\n{looked}\n{advice}")


def _resolve_alias(value, name, choices, aliases, extra=""):
    """Return the canonical name that ``value`` spells, in any case, or raise a ValueError.

    Not parameter validation (``validate_params`` checks the type): a name
    with aliases, such as a domain written ``"A"`` or ``"amazon"``.
    ``aliases`` maps every accepted lower-case spelling to its canonical name;
    ``choices`` are the names the error message lists.
    """
    key = value.lower() if isinstance(value, str) else None
    if key not in aliases:
        shown = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {shown}{extra}; got {value!r}.")
    return aliases[key]


def _corrupted(source, problem, what="the expected file"):
    """Build the ``OSError`` saying that ``source`` is unreadable because of ``problem``."""
    return OSError(
        f"Could not read {_describe(source)}: {problem}. The file is corrupted, "
        f"truncated or not {what}; replace it with an intact copy."
    )


def _describe(source):
    """Full path of a path-like ``source`` (or a file object's name), for messages."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", repr(source)))


def _read_mat(path, variable_names):
    """Read ``variable_names`` from a MATLAB (v4/v5/v7) ``.mat`` file.

    Any failure to parse the file, and any requested variable missing from it,
    raises an ``OSError`` naming the file, so that a corrupted or truncated
    download never turns into a silent partial load.

    Parameters
    ----------
    path : path-like or file-like
        The ``.mat`` file.
    variable_names : list of str
        Variables that must be present.

    Returns
    -------
    variables : dict of str to ndarray
        Exactly the requested variables.

    Raises
    ------
    OSError
        If the file cannot be parsed or lacks one of ``variable_names``.
    """
    name = _describe(path)
    try:
        # scipy.io.loadmat never unpickles; object arrays are not expected here.
        contents = scipy.io.loadmat(path, variable_names=list(variable_names))
    except Exception as exc:  # scipy raises ValueError, OSError, IndexError, ...
        raise OSError(
            f"Could not read {name}: the file is corrupted, truncated or not a "
            "MATLAB v4-v7 .mat file (v7.3/HDF5 is not supported) "
            f"({type(exc).__name__}: {exc}). "
            "Replace it with an intact copy."
        ) from exc
    missing = [v for v in variable_names if v not in contents]
    if missing:
        raise OSError(
            f"Could not read {name}: it lacks the variable(s) "
            f"{missing} (found {sorted(k for k in contents if not k.startswith('__'))}"
            "). The file is corrupted or is not the expected file."
        )
    out = {}
    for v in variable_names:
        value = contents[v]
        if not isinstance(value, np.ndarray) or value.dtype == object:
            raise OSError(
                f"Could not read {name}: variable {v!r} is not a "
                "numeric array. The file is corrupted or is not the expected file."
            )
        out[v] = value
    return out
