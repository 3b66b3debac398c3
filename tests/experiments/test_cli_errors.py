"""Every CLI failure is one line on stderr, exit 2 for a user error (issue 15, causes 14-17)."""

import hashlib
import sqlite3

import pytest

from skntl.cli import main
from skntl.experiments import ResultsStore, Run, _store

SPEC = """
name = "cli"
seeds = 1
[params.TCA]
n_components = 10
[[grid]]
tasks = ["surf:C->A"]
methods = ["TCA"]
eps = 0.5
"""


def _spec(tmp_path, text=SPEC):
    spec = tmp_path / "cli.toml"
    spec.write_text(text)
    return spec


def _assert_one_line_error(capsys, command, *words):
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith(f"skntl {command}: error: "), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def _bad_stores(tmp_path):
    not_sqlite = tmp_path / "text.sqlite"
    not_sqlite.write_text("these are not the runs you are looking for\n" * 50)
    good = tmp_path / "good.sqlite"
    ResultsStore(good).write(Run("surf:C->A", "TCA", "twin", seed=0),
                             dict(status="ok", error=None, accuracy=0.5))
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(good.read_bytes()[:1500])
    folder = tmp_path / "folder.sqlite"
    folder.mkdir()
    return {"not_sqlite": not_sqlite, "truncated": truncated, "directory": folder}


@pytest.mark.parametrize("kind", ["not_sqlite", "truncated", "directory"])
def test_rc14_bad_store_is_one_line_exit_2(tmp_path, capsys, kind):
    store = _bad_stores(tmp_path)[kind]
    spec = _spec(tmp_path)
    for argv, command in (
        (["table", "2", str(store)], "table"),
        (["figure", "3", str(store), "-o", str(tmp_path / "f.png")], "figure"),
        (["run", str(spec), "--results", str(store), "--dry-run"], "run"),
        (["run", str(spec), "--results", str(store), "--n-jobs", "1", "--no-progress"], "run"),
    ):
        assert main(argv) == 2, argv
        _assert_one_line_error(capsys, command, "results store", str(store))


def test_rc15_read_only_store_fails_before_any_run(tmp_path, capsys, monkeypatch):
    store = tmp_path / "ro.sqlite"
    ResultsStore(store).write(Run("surf:C->A", "TCA", "twin", seed=99),
                              dict(status="ok", error=None, accuracy=0.5))
    # as a read-only file opens for any user (root ignores file permissions)
    monkeypatch.setattr(_store, "_open_read_write", _store._open_read_only)
    ran = []
    monkeypatch.setattr("skntl.experiments._runner.execute_run",
                        lambda run, *a: ran.append(run) or (run, {}))
    assert main(["run", str(_spec(tmp_path)), "--results", str(store), "--n-jobs", "1",
                 "--no-progress"]) == 2
    _assert_one_line_error(capsys, "run", "is read-only")
    assert ran == []


@pytest.mark.parametrize("command", ["table", "figure", "dry-run"])
def test_rc16_reading_commands_do_not_write(tmp_path, capsys, command):
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    with con:
        con.execute("CREATE TABLE notes (text TEXT)")
        con.execute("INSERT INTO notes VALUES ('keep me as I am')")
    con.close()
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    argv = {
        "table": ["table", "1", str(other)],
        "figure": ["figure", "3", str(other), "-o", str(tmp_path / "f.png")],
        "dry-run": ["run", str(_spec(tmp_path)), "--results", str(other), "--dry-run"],
    }[command]
    status = main(argv)
    if command == "dry-run":
        assert status == 0 and "2 runs, 2 pending" in capsys.readouterr().out
    else:
        assert status == 2
        _assert_one_line_error(capsys, argv[0], "no runs table")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == digest
    assert not (tmp_path / "other.artifacts").exists()


def test_rc17_other_user_errors_are_one_line(tmp_path, capsys):
    folder = tmp_path / "spec.toml"
    folder.mkdir()
    assert main(["run", str(folder), "--dry-run"]) == 2
    _assert_one_line_error(capsys, "run", "Is a directory")

    a_file = tmp_path / "file"
    a_file.write_text("")
    spec = _spec(tmp_path)
    assert main(["run", str(spec), "--results", str(a_file / "sub" / "r.sqlite"),
                 "--n-jobs", "1", "--no-progress"]) == 2
    _assert_one_line_error(capsys, "run", "cannot be created")

    bad = _spec(tmp_path, 'name = "bad"\ngrid = 3\n')
    assert main(["run", str(bad), "--dry-run"]) == 2
    _assert_one_line_error(capsys, "run", "grid must be [[grid]] tables")

    broken = _spec(tmp_path, "name = \n")
    assert main(["run", str(broken), "--dry-run"]) == 2
    _assert_one_line_error(capsys, "run")

    assert main(["run"]) == 2
    _assert_one_line_error(capsys, "run", "give a SPEC")


def test_failed_runs_exit_1(tmp_path, capsys, monkeypatch):
    def fail(run, *args):
        return run, dict(status="error", error="Traceback...\nValueError: boom\n", host="t")

    monkeypatch.setattr("skntl.experiments._runner.execute_run", fail)
    store = tmp_path / "r.sqlite"
    assert main(["run", str(_spec(tmp_path)), "--results", str(store), "--n-jobs", "1",
                 "--no-progress"]) == 1
    assert "0 done now, 2 failed." in capsys.readouterr().out
