"""Study specs: a small TOML file (or dict) that expands to independent runs."""

import hashlib
import itertools
import json
import sys
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from ._tasks import DEEP_METHODS, METHODS, parse_task

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["ROLES", "Run", "expand_spec", "load_spec"]

#: What a run fits (:ref:`method-twin`, :ref:`method-ablations`, :ref:`method-figure3`):
#: ``transfer`` A(S, T); ``twin`` the target-only A(∅, T) (:ref:`decision D16
#: <decision-d16>`, shared across ε and the gated variant, :ref:`decision D18
#: <decision-d18>`); ``oracle`` A on the clean source rows only (Table 4);
#: ``source_only`` the network on the source alone (Res_S, Fig. 3);
#: ``labeled_only`` the network on the labeled target alone (Res_T).
ROLES = ("transfer", "twin", "oracle", "source_only", "labeled_only")

_GRID_KEYS = {
    "tasks", "methods", "roles", "gate", "gate_variant", "eps", "eps_x", "eps_y",
    "labeled_ratio", "max_labeled_per_class", "twins", "name", "params",
}
#: Parameters that only act on the discriminator gate: runs without a gate
#: (the ungated method, every twin) drop them, so that candidates of a design
#: study that differ only in the gate share their baseline and twin runs.
GATE_ONLY_PARAMS = frozenset({
    "gate_lambda", "omega_normalize", "gate_warmup", "omega_align", "discriminator_kind",
})


def without_gate_params(params):
    """Return a run's ``params`` (JSON) less the gate-only parameters."""
    values = json.loads(params)
    if not GATE_ONLY_PARAMS & set(values):
        return params
    kept = {k: v for k, v in values.items() if k not in GATE_ONLY_PARAMS}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"))


_SPEC_KEYS = {"name", "description", "seeds", "grid", "params", "artifacts"}


@dataclass(frozen=True)
class Run:
    """One fit of the study: everything that determines its result.

    Attributes
    ----------
    task, method, role : str
        What is fitted on which data (see :data:`ROLES`).
    gate : bool
        Whether the method's discriminator gate is on.
    gate_variant : str
        Which gate a gated run uses: ``"default"`` (the method's default,
        skntl's gate), ``"paper"`` (the paper's gate) or a method's own
        ``gate_variant`` name (DANN's Table 4 ablations). Ungated runs have
        ``"full"``.
    eps_x, eps_y : float
        Source perturbation rates.
    labeled_ratio : float
        L%, as a fraction of the target-train half.
    max_labeled_per_class : int or None
        Cap on labeled target rows per class (Table 2 uses 3).
    seed : int
        Controls the target split, the perturbation and the fit
        (:ref:`decision D5 <decision-d5>`).
    params : str
        The estimator's parameters as canonical JSON.
    """

    task: str
    method: str
    role: str = "transfer"
    gate: bool = False
    gate_variant: str = "default"
    eps_x: float = 0.0
    eps_y: float = 0.0
    labeled_ratio: float = 0.1
    max_labeled_per_class: int | None = None
    seed: int = 0
    params: str = field(default="{}")

    @property
    def run_id(self):
        """A stable 16-hex-digit key: equal runs share it across processes and sessions."""
        blob = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]

    def estimator_params(self):
        """Return the estimator's keyword arguments for this run."""
        params = json.loads(self.params)
        if self.method in DEEP_METHODS:
            params["gate"] = self.gate
            if self.gate and self.gate_variant != "default":
                params["gate_variant"] = self.gate_variant
        params["random_state"] = self.seed  # every method in METHODS takes one
        return params


def load_spec(spec):
    """Read a spec: a path to a TOML file, a bundled spec's name, or a dict.

    Bundled specs (``skntl run --list`` shows them) are ``demo``,
    ``table1``...``table4``, ``figure3`` and ``figure4`` (the study),
    ``gate_design`` (the study that chose the default gate, on development
    tasks only) and ``gate_weights`` (how far each method's gate distrusts
    rows with a changed label, on the study's tasks).

    Parameters
    ----------
    spec : str, path-like or dict
        The spec.

    Returns
    -------
    spec : dict
        The parsed spec (not yet validated; :func:`expand_spec` validates).
    """
    if isinstance(spec, dict):
        return spec
    path = Path(spec)
    if path.suffix != ".toml" and not path.exists():
        bundled = resources.files("skntl.experiments").joinpath("specs", f"{spec}.toml")
        if bundled.is_file():
            return tomllib.loads(bundled.read_text(encoding="utf-8"))
        raise FileNotFoundError(
            f"spec {str(spec)!r} is neither a file nor a bundled spec "
            f"({', '.join(bundled_specs())})."
        )
    with open(path, "rb") as f:
        return tomllib.load(f)


def bundled_specs():
    """Return the names of the specs shipped with skntl."""
    folder = resources.files("skntl.experiments").joinpath("specs")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _fractions(block, key, default, where):
    values = _as_list(block.get(key, default))
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"{where}: {key} must be numbers in [0, 1], got {v!r}.")
    return [float(v) for v in values]


def _caps(block, where):
    values = _as_list(block.get("max_labeled_per_class", "none"))
    caps = []
    for v in values:
        if v in ("none", None):
            caps.append(None)
        elif isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            caps.append(v)
        else:
            raise ValueError(
                f"{where}: max_labeled_per_class must be positive integers or 'none', got {v!r}."
            )
    return caps


def _seeds(spec):
    seeds = spec.get("seeds", 5)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive integer or a list, got {seeds}.")
        return list(range(seeds))
    seeds = _as_list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a positive integer or a list of integers, got {seeds!r}.")
    return seeds


def _param_tables(params, where):
    if not isinstance(params, dict):
        raise ValueError(f"{where} must be a table of estimator parameters.")
    unknown = set(params) - set(METHODS) - {"deep"}
    if unknown:
        raise ValueError(
            f"{where}: unknown method table(s) {sorted(unknown)}; use 'deep' or one of "
            f"{sorted(METHODS)}."
        )
    return params


def _method_params(spec, method, block=None):
    merged = {}
    for where, params in (("params", spec.get("params", {})),
                          ("grid params", (block or {}).get("params", {}))):
        params = _param_tables(params, where)
        if method in DEEP_METHODS:
            merged.update(params.get("deep", {}))
        merged.update(params.get(method, {}))
    for reserved in ("gate", "gate_variant", "random_state"):
        if reserved in merged:
            raise ValueError(
                f"params.{method}: {reserved!r} is set by the grid (gate, gate_variant) "
                "or the seed, not by params."
            )
    valid = METHODS[method]().get_params()
    bad = sorted(set(merged) - set(valid))
    if bad:
        raise ValueError(f"params.{method}: {METHODS[method].__name__} has no parameter(s) {bad}.")
    return json.dumps(merged, sort_keys=True, separators=(",", ":"))


def _normalise(run):
    """Give runs that cannot differ the same fields.

    One twin per seed and L% (:ref:`decision D18 <decision-d18>`).
    """
    role = run["role"]
    if not run["gate"] or role != "transfer":
        run["gate"], run["gate_variant"] = False, "full"
        run["params"] = without_gate_params(run["params"])
    if role in ("twin", "labeled_only"):
        run["eps_x"] = run["eps_y"] = 0.0
    if role == "source_only":
        run["labeled_ratio"], run["max_labeled_per_class"] = 0.0, None
    return Run(**run)


def expand_spec(spec):
    """Expand a spec into its runs, in a stable order and without duplicates.

    Each ``[[grid]]`` block is a Cartesian product of its lists; the runs of
    all blocks are united. Keys of a block: ``tasks`` and ``methods``
    (required); ``roles`` (default ``["transfer"]``, see :data:`ROLES`);
    ``gate`` (default ``[false]``); ``gate_variant`` (default
    ``["default"]``, the method's own gate; ``"paper"`` for the paper's; any
    name the methods' ``gate_variant`` takes); ``eps`` (sets ε_x = ε_y) or ``eps_x`` and ``eps_y``
    (default 0); ``labeled_ratio`` (default 0.1); ``max_labeled_per_class``
    (an int or ``"none"``, the default); ``twins`` (default true: add the
    target-only twin of every transfer run); ``name`` (a label, e.g. a
    design-study candidate's; not part of the runs) and ``params`` (tables
    as the top-level ``params``, applied over them in this block only).
    Top-level keys: ``name``,
    ``description``, ``seeds`` (a count or a list, default 5), ``artifacts``
    (save per-run arrays for Figure 4) and ``params`` (``[params.deep]`` for
    all deep methods, ``[params.<Method>]`` per method).

    Parameters
    ----------
    spec : dict, str or path-like
        The spec, or what :func:`load_spec` accepts.

    Returns
    -------
    runs : list of Run
        The runs; twins shared by several transfer runs appear once.
    """
    spec = load_spec(spec)
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ValueError(f"spec: unknown key(s) {sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}.")
    blocks = spec.get("grid")
    if isinstance(blocks, dict):
        blocks = [blocks]
    if blocks and not (isinstance(blocks, list) and all(isinstance(b, dict) for b in blocks)):
        raise ValueError(f"spec: grid must be [[grid]] tables (tasks, methods), not {blocks!r}.")
    if not blocks:
        raise ValueError("spec: needs at least one [[grid]] block.")
    seeds = _seeds(spec)
    runs = {}
    for i, block in enumerate(blocks):
        where = f"grid[{i}]"
        bad = set(block) - _GRID_KEYS
        if bad:
            raise ValueError(
                f"{where}: unknown key(s) {sorted(bad)}; allowed: {sorted(_GRID_KEYS)}."
            )
        for key in ("tasks", "methods"):
            if not block.get(key):
                raise ValueError(f"{where}: {key} is required.")
        tasks = _as_list(block["tasks"])
        for task in tasks:
            parse_task(task)
        methods = _as_list(block["methods"])
        for m in methods:
            if m not in METHODS:
                raise ValueError(f"{where}: unknown method {m!r}; known: {sorted(METHODS)}.")
        roles = _as_list(block.get("roles", ["transfer"]))
        for r in roles:
            if r not in ROLES:
                raise ValueError(f"{where}: unknown role {r!r}; known: {list(ROLES)}.")
        gates = _as_list(block.get("gate", [False]))
        if not all(isinstance(g, bool) for g in gates):
            raise ValueError(f"{where}: gate must be true/false, got {gates!r}.")
        if any(gates) and set(methods) - DEEP_METHODS:
            raise ValueError(
                f"{where}: gate=true needs deep methods; {sorted(set(methods) - DEEP_METHODS)} "
                "have no discriminator gate."
            )
        variants = _as_list(block.get("gate_variant", ["default"]))
        for m in methods:
            if m not in DEEP_METHODS:
                continue
            known = {"default", "paper", *METHODS[m]._gate_variants}
            bad = sorted(set(variants) - known)
            if bad:
                raise ValueError(
                    f"{where}: {m} has no gate_variant {bad}; known: {sorted(known)}.")
        if "eps" in block:
            if "eps_x" in block or "eps_y" in block:
                raise ValueError(f"{where}: give eps or eps_x/eps_y, not both.")
            eps_pairs = [(e, e) for e in _fractions(block, "eps", 0.0, where)]
        else:
            eps_pairs = list(itertools.product(
                _fractions(block, "eps_x", 0.0, where), _fractions(block, "eps_y", 0.0, where)))
        ratios = _fractions(block, "labeled_ratio", 0.1, where)
        caps = _caps(block, where)
        twins = block.get("twins", True)
        params = {m: _method_params(spec, m, block) for m in methods}
        for task, method, role, gate, variant, (ex, ey), ratio, cap, seed in itertools.product(
            tasks, methods, roles, gates, variants, eps_pairs, ratios, caps, seeds
        ):
            fields = dict(task=task, method=method, role=role, gate=gate, gate_variant=variant,
                          eps_x=ex, eps_y=ey, labeled_ratio=ratio, max_labeled_per_class=cap,
                          seed=seed, params=params[method])
            run = _normalise(dict(fields))
            runs.setdefault(run.run_id, run)
            if twins and role == "transfer":
                twin = _normalise(dict(fields, role="twin"))
                runs.setdefault(twin.run_id, twin)
    return list(runs.values())
