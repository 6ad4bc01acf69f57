"""Teach it your handwriting, through the window: keep a misread drawing, fine-tune, see the figures."""

from __future__ import annotations

import numpy as np

from core.data.personal_set import PersonalSet
from gui.handwriting import FineTuneReport
from tests.gui.window_driver import LEFT, ONE, draw_stroke


def test_a_kept_drawing_joins_the_personal_set_and_fine_tuning_makes_a_new_current_model(qtbot, window):
    drawing = window.drawing
    teach = drawing.teach
    assert teach.tune_button.text() == "Fine-tune (0)" and not teach.tune_button.isEnabled()
    qtbot.mouseClick(teach.keep_button, LEFT)
    assert "Draw a digit first" in window.statusBar().currentMessage()

    draw_stroke(qtbot, drawing.pad, ONE)
    teach.digit_box.setCurrentIndex(7)  # "it is a 7", whatever the model read
    qtbot.mouseClick(teach.keep_button, LEFT)
    kept = PersonalSet()
    assert kept.labels.tolist() == [7]
    assert abs(kept.images[0] / 255 - drawing.model_input).max() <= 1 / 255
    assert teach.tune_button.text() == "Fine-tune (1)" and teach.tune_button.isEnabled()

    before = window.current
    with qtbot.waitSignal(window.teacher.tuned, timeout=120_000) as tuned:
        qtbot.mouseClick(teach.tune_button, LEFT)
    report: FineTuneReport = tuned.args[0]
    assert report.drawings == 1 and 0.0 <= report.test_after <= 1.0
    assert window.current is report.checkpoint and window.current is not before
    assert "fine-tuned on your handwriting" in drawing.model_label.text()
    assert "Your drawings: " in window.statusBar().currentMessage()
    assert teach.tune_button.text() == "Fine-tune (1)"


def test_a_damaged_personal_set_is_said_once_and_clear_starts_afresh(qtbot, tmp_path):
    from core.data.personal_set import IMAGES, default_personal_dir
    from gui.handwriting import HandwritingTeacher

    folder = default_personal_dir()
    folder.mkdir(parents=True)
    (folder / IMAGES).write_bytes(b"not an IDX file")
    teacher = HandwritingTeacher()
    assert teacher.personal is None and "Clear starts afresh" in teacher.error and IMAGES in teacher.error
    teacher.clear()
    assert teacher.personal is not None and len(teacher) == 0 and not (folder / IMAGES).exists()
    teacher.keep(np.zeros((28, 28), np.float32), 3)
    assert PersonalSet().labels.tolist() == [3]
