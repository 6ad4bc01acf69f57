from core.wording import counted


def test_one_is_singular_and_every_other_count_plural():
    assert counted(1, "epoch") == "1 epoch"
    assert counted(0, "epoch") == "0 epochs"
    assert counted(25, "epoch") == "25 epochs"
    assert counted(2, "batch", "batches") == "2 batches"
    assert counted(1, "batch", "batches") == "1 batch"
