from core.engine.race import RaceResult
from gui.race_table import result_cells


def test_a_run_stopped_after_one_epoch_says_one_epoch():
    cells = result_cells(RaceResult("sgd", 0.005, "stopped", 1, 0.9, 0.2, 1, 0.91))
    assert cells[0] == "SGD" and cells[-1] == "stopped after 1 epoch"
    assert result_cells(RaceResult("adam", 5e-4, "stopped", 3, None, None, None, None))[-1] == "stopped after 3 epochs"
    assert result_cells(RaceResult("adam", 0.0005, "finished", 3, 0.97, 0.2, 3, 0.97))[-1] == "finished"
