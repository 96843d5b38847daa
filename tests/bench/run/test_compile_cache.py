"""The compile cache on disk: a program compiled once is loaded, not traced or compiled, by a
later process; the numbers are the same with it warm, cold or off; a damaged entry or a folder
that cannot be used costs a compilation, never a run."""

import os
import pickle
import stat

import pytest

from bench.run import compile_cache
from echo import training
from echo.protocol import run
from experiments import discover

EXPERIMENTS = discover()  # the declared experiments, by name

SETUP = EXPERIMENTS["echo-lag"].variants["stateful-lstm50"].replace(epochs=8, eval_sequences=2)


@pytest.fixture
def traced(monkeypatch, tmp_path):
    """A fresh cache folder, no program in this process, and the count of programs traced."""
    monkeypatch.setenv(compile_cache.VARIABLE, str(tmp_path / "cache"))
    monkeypatch.setattr(compile_cache, "_unusable", [])
    compile_cache.install()
    count = {"train": 0}
    original = training._train_program

    def counted(*args):
        count["train"] += 1
        return original(*args)

    monkeypatch.setattr(training, "_train_program", counted)
    training.clear_programs()
    yield count
    training.keep_programs(None)
    training.clear_programs()


def numbers(result):
    return result.scores["eval_accuracy"], result.curves.loss.tolist()


def entries(tmp_path):
    return sorted((tmp_path / "cache").glob(f"*{compile_cache.SUFFIX}"))


def test_a_program_compiled_once_is_loaded_by_a_later_process_with_the_same_numbers(
        traced, tmp_path, monkeypatch):
    cold = run(SETUP, 3)
    assert traced["train"] == 1 and len(entries(tmp_path)) == 2  # training and prediction
    training.clear_programs()  # as a new process
    warm = run(SETUP, 3)
    assert traced["train"] == 1 and numbers(warm) == numbers(cold)
    assert not list((tmp_path / "cache").glob(".tmp-*"))
    monkeypatch.setenv(compile_cache.VARIABLE, "off")
    training.clear_programs()
    assert numbers(run(SETUP, 3)) == numbers(cold) and traced["train"] == 2


def test_a_damaged_entry_is_compiled_again_and_replaced(traced, tmp_path):
    cold = run(SETUP, 1)
    for entry in entries(tmp_path):
        entry.write_bytes(entry.read_bytes()[:100])  # cut short, as by a full disk
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 2
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 2  # replaced whole


@pytest.mark.slow
def test_a_folder_that_cannot_be_used_is_skipped_in_one_line(traced, tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(compile_cache.VARIABLE, str(tmp_path / "file" / "cache"))
    assert compile_cache.problem(tmp_path / "file" / "cache") == "Not a directory"
    first = run(SETUP, 2)
    training.clear_programs()
    assert numbers(run(SETUP, 2)) == numbers(first)
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "compile cache" in said[0] and "skipped" in said[0]


def test_a_users_layer_is_never_kept_its_code_may_change_under_the_same_configuration(
        traced, tmp_path):
    run(SETUP.replace(cell="architectures:OwnNamesCell", stateful=False, carry_state=False), 0)
    assert entries(tmp_path) == []


def test_a_programs_name_changes_with_its_key_and_with_this_packages_source(monkeypatch):
    assert compile_cache.digest(("a",)) == compile_cache.digest(("a",))
    assert compile_cache.digest(("a",)) != compile_cache.digest(("b",))
    before = compile_cache.digest(("a",))
    compile_cache._context.cache_clear()
    monkeypatch.setattr(compile_cache, "_source_digest", lambda: "edited")
    assert compile_cache.digest(("a",)) != before
    compile_cache._context.cache_clear()


class Planted:
    """A pickle that, loaded, leaves a marker: what a planted entry could do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.slow
def test_an_entry_not_signed_here_is_never_unpickled_and_is_replaced(traced, tmp_path):
    cold = run(SETUP, 1)
    marker = tmp_path / "ran"
    for entry in entries(tmp_path):  # the format, but signed with another key (or none)
        entry.write_bytes(bytes(32) + pickle.dumps(Planted(marker)))
        entry.chmod(0o600)
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 2
    assert not marker.exists()
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 2  # replaced, signed


@pytest.mark.slow
def test_an_entry_under_another_programs_name_is_compiled_again(traced, tmp_path):
    cold = run(SETUP, 1)
    first, second = entries(tmp_path)  # training and prediction, each signed here
    payload = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(payload)
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 2


@pytest.mark.slow
def test_the_cache_is_this_users_alone_and_a_folder_others_can_write_is_not_read(
        traced, tmp_path, capsys):
    cold = run(SETUP, 1)
    cache = tmp_path / "cache"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in [*entries(tmp_path), cache / ".key"]} == {0o600}
    cache.chmod(0o777)
    assert compile_cache.problem(cache) == "the folder is writable by others than its owner"
    compile_cache._problem_once.cache_clear()
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 2  # not read
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "writable by others" in said[0]
    compile_cache._problem_once.cache_clear()


@pytest.mark.slow
def test_a_pipe_at_an_entrys_name_never_blocks(traced, tmp_path):
    cold = run(SETUP, 1)
    for entry in entries(tmp_path):
        entry.unlink()
        os.mkfifo(entry, 0o600)
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 2
    assert all(entry.is_file() for entry in entries(tmp_path))  # replaced by rename


def _signed_contents(tmp_path, leave=()):
    """Each entry's key and program by purpose (the first word of its key), less the entries in
    `leave`."""
    found = {}
    for entry in set(entries(tmp_path)) - set(leave):
        made_for, *program = pickle.loads(entry.read_bytes()[compile_cache.SIGNATURE:])
        found[made_for.split("'")[1]] = (entry, made_for, program)
    return found


@pytest.mark.slow
def test_an_entry_for_this_key_that_cannot_take_its_arguments_is_compiled_again_and_replaced(
        traced, tmp_path):
    cold = run(SETUP, 1)
    ours = _signed_contents(tmp_path)
    run(SETUP.replace(length=SETUP.length * 2), 1)  # the same architecture, other shapes
    others = _signed_contents(tmp_path, leave=[entry for entry, _, _ in ours.values()])
    secret = (tmp_path / "cache" / compile_cache.KEY).read_bytes()
    for purpose, (entry, made_for, _) in ours.items():  # this key's name and record, another's program
        payload = pickle.dumps((made_for, *others[purpose][2]))
        entry.write_bytes(compile_cache._sign(secret, payload) + payload)
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 3
    training.clear_programs()
    assert numbers(run(SETUP, 1)) == numbers(cold) and traced["train"] == 3  # replaced
