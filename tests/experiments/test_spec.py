import pytest

from skntl.experiments import Run, bundled_specs, expand_spec, load_spec

BASE = {"seeds": 2, "grid": [{"tasks": ["surf:C->A"], "methods": ["DANN"], "gate": [False, True],
                              "eps": [0.0, 0.7], "labeled_ratio": [0.1, 0.3]}]}


def test_expansion_is_the_product_plus_one_shared_twin_per_ratio_and_seed():
    runs = expand_spec(BASE)
    transfer = [r for r in runs if r.role == "transfer"]
    twins = [r for r in runs if r.role == "twin"]
    assert len(transfer) == 2 * 2 * 2 * 2  # gate x eps x L% x seeds
    # D18: the twin does not depend on eps or the gate
    assert len(twins) == 2 * 2
    assert {(t.eps_x, t.gate) for t in twins} == {(0.0, False)}
    assert len({r.run_id for r in runs}) == len(runs)


def test_expansion_is_stable_and_ids_do_not_depend_on_order():
    a = expand_spec(BASE)
    b = expand_spec(dict(BASE, grid=[dict(BASE["grid"][0], eps=[0.7, 0.0])]))
    assert a == expand_spec(BASE)
    assert {r.run_id for r in a} == {r.run_id for r in b}


def test_params_reach_the_estimator_and_the_seed_is_its_random_state():
    spec = dict(BASE, params={"deep": {"max_epochs": 3}, "DANN": {"mu": 0.5}})
    run = next(r for r in expand_spec(spec) if r.gate)
    params = run.estimator_params()
    # the method's default gate: no gate_variant is passed
    assert params == {"max_epochs": 3, "mu": 0.5, "gate": True, "random_state": run.seed}
    paper = dict(spec, grid=[dict(BASE["grid"][0], gate=True, gate_variant="paper")])
    assert next(iter(expand_spec(paper))).estimator_params()["gate_variant"] == "paper"
    # different parameters are different runs
    assert not {r.run_id for r in expand_spec(spec)} & {r.run_id for r in expand_spec(BASE)}


def test_roles_are_normalised_so_equivalent_runs_coincide():
    spec = {"seeds": 1, "grid": [{"tasks": ["surf:C->A"], "methods": ["DANN"],
                                  "roles": ["source_only", "labeled_only", "oracle"],
                                  "gate": [False, True], "eps": [0.3, 0.7],
                                  "labeled_ratio": [0.1, 0.2], "twins": False}]}
    runs = expand_spec(spec)
    by_role = {role: [r for r in runs if r.role == role] for role in
               ("source_only", "labeled_only", "oracle")}
    assert len(by_role["source_only"]) == 2  # one per eps, L% irrelevant
    assert len(by_role["labeled_only"]) == 2  # one per L%, eps irrelevant
    assert len(by_role["oracle"]) == 4  # eps x L%, never gated
    assert not any(r.gate for r in runs)
    assert not any(r.role == "twin" for r in runs)


def test_explicit_eps_x_eps_y_and_caps():
    spec = {"seeds": [3], "grid": [{"tasks": "decaf6:W->D", "methods": "TCA", "eps_x": [0.7, 1.0],
                                    "eps_y": 0.0, "max_labeled_per_class": [3, "none"]}]}
    runs = [r for r in expand_spec(spec) if r.role == "transfer"]
    assert {(r.eps_x, r.eps_y, r.max_labeled_per_class) for r in runs} == {
        (0.7, 0.0, 3), (1.0, 0.0, 3), (0.7, 0.0, None), (1.0, 0.0, None)}
    assert {r.seed for r in runs} == {3}


@pytest.mark.parametrize("change, match", [
    ({"colour": 1}, "unknown key"),
    ({"grid": []}, "at least one"),
    ({"grid": [{"methods": ["DANN"]}]}, "tasks is required"),
    ({"grid": [{"tasks": ["surf:C->Z"], "methods": ["DANN"]}]}, "surf domains"),
    ({"grid": [{"tasks": ["mnist"], "methods": ["DANN"]}]}, "task must look like"),
    ({"grid": [{"tasks": ["surf:C->A"], "methods": ["SVM"]}]}, "unknown method"),
    ({"grid": [{"tasks": ["surf:C->A"], "methods": ["TCA"], "gate": True}]}, "discriminator"),
    ({"grid": [{"tasks": ["surf:C->A"], "methods": ["DAN"], "gate": True,
                "gate_variant": "joint"}]}, "DAN has no gate_variant"),
    ({"grid": [{"tasks": ["surf:C->A"], "methods": ["DANN"], "eps": 1.5}]}, r"\[0, 1\]"),
    ({"grid": [{"tasks": ["surf:C->A"], "methods": ["DANN"], "eps": 0.1, "eps_x": 0.2}]},
     "not both"),
    ({"grid": [{"tasks": ["surf:C->A"], "methods": ["DANN"], "roles": ["teacher"]}]},
     "unknown role"),
    ({"grid": [{"tasks": ["surf:C->A"], "methods": ["DANN"], "max_labeled_per_class": 0}]},
     "positive integers"),
    ({"seeds": 0}, "seeds"),
    ({"params": {"DANN": {"gate": True}}}, "set by the grid"),
    ({"params": {"DANN": {"colour": 1}}}, "no parameter"),
    ({"params": {"SVM": {}}}, "unknown method table"),
])
def test_bad_specs_get_one_clear_error(change, match):
    with pytest.raises(ValueError, match=match):
        expand_spec(dict(BASE, **change))


def test_bundled_specs_expand_and_unknown_names_are_explained(tmp_path):
    names = bundled_specs()
    assert {"demo", "table1", "table2", "table3", "table4", "figure3", "figure4"} <= set(names)
    for name in names:
        assert expand_spec(name), name
    with pytest.raises(FileNotFoundError, match="bundled spec"):
        load_spec("table9")
    path = tmp_path / "mine.toml"
    path.write_text('seeds = 1\n[[grid]]\ntasks = ["surf:C->A"]\nmethods = ["TCA"]\n')
    assert [r.role for r in expand_spec(path)] == ["transfer", "twin"]


def test_run_is_hashable_and_its_id_is_stable():
    run = Run("surf:C->A", "DANN", eps_x=0.7, eps_y=0.7)
    assert run.run_id == Run("surf:C->A", "DANN", eps_x=0.7, eps_y=0.7).run_id
    assert run.run_id != Run("surf:C->A", "DANN", eps_x=0.7, eps_y=0.3).run_id
    assert len(run.run_id) == 16


def test_grid_blocks_carry_their_own_params_and_share_ungated_runs_and_twins():
    block = dict(BASE["grid"][0], gate=True, eps=[0.7], labeled_ratio=[0.1])
    spec = {
        "seeds": 1,
        "params": {"deep": {"max_epochs": 3}},
        "grid": [
            dict(block, gate=False, name="DANN"),
            dict(block, name="paper"),
            dict(block, name="normalised", params={"DANN": {"omega_normalize": True}}),
            dict(block, name="short", params={"deep": {"max_epochs": 2}}),
        ],
    }
    runs = expand_spec(spec)
    gated = [r for r in runs if r.gate]
    assert sorted(r.estimator_params().get("omega_normalize", False) for r in gated) == [
        False, False, True]
    assert sorted(r.estimator_params()["max_epochs"] for r in gated) == [2, 3, 3]
    # the gate-only parameter does not make a new twin; a training length does
    twins = [r for r in runs if r.role == "twin"]
    assert sorted(t.estimator_params()["max_epochs"] for t in twins) == [2, 3]
    assert all("omega_normalize" not in t.estimator_params() for t in twins)
    with pytest.raises(ValueError, match="grid params: unknown method"):
        expand_spec(dict(spec, grid=[dict(block, params={"Foo": {}})]))


def test_the_gate_design_spec_keeps_the_test_tasks_out():
    runs = expand_spec("gate_design")
    test_tasks = {"decaf6:W->D", "surf:C->A", "surf:D->A", "digits:mnist_jda->usps_jda"}
    assert not {r.task for r in runs} & test_tasks
    names = [b["name"] for b in load_spec("gate_design")["grid"]]
    assert len(names) == len(set(names)) >= 9


def test_the_gate_weights_spec_runs_every_deep_method_gated_without_twins():
    runs = expand_spec("gate_weights")
    assert {r.role for r in runs} == {"transfer"} and all(r.gate for r in runs)
    assert {r.method for r in runs} == {"DAN", "DeepCORAL", "DANN", "ADDA", "PADA", "GTA"}
    assert {(r.eps_y, r.labeled_ratio) for r in runs} == {(0.7, 0.3)}
