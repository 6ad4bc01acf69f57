"""`main.py train` killed (SIGKILL) at random moments leaves loadable runs, a readable history, and
no temp file once the history is next opened. A short version (three kills of a tiny run that
saves at every epoch); `python bench/bench_kills.py` is the 20-kill, 25-epoch one."""

import random

from tests.kill_harness import kill_environment, kill_once, training_seconds

KILLS = 3


def test_killed_runs_leave_loadable_models_a_readable_history_and_no_temp_files(tiny_dataset_dir, tmp_path):
    env, runs_dir = kill_environment(tmp_path)
    save = tmp_path / "saved" / "model.npz"
    args = ["--data-dir", str(tiny_dataset_dir), "--hidden", "32,16", "--batch-size", "32", "--epochs", "60",
            "--save", str(save)]
    span = training_seconds(args, env)  # also leaves a finished run and a model at --save
    rng = random.Random(12)
    outcomes = [kill_once(args, env, span, rng, runs_dir, save, mid_write=index > 0) for index in range(KILLS)]
    for outcome in outcomes:
        assert outcome.list_exit_code == 0 and outcome.unreadable == []
        assert outcome.runs_loaded == outcome.runs_listed >= 1
        assert outcome.temp_files_after_start == 0 and outcome.save_file_loads
    assert sum(outcome.killed_at is not None for outcome in outcomes) >= 1
    training_seconds(args, env)  # the next train removes what a kill left beside the --save file
    assert not list(save.parent.glob("*.tmp")) and not list(runs_dir.glob("*.tmp"))
