"""Pause, resume and stop from other threads; wait_until_halted tells when the loop has stopped."""

import threading
import time

from core.engine.run_control import RunControl


def loop_in_thread(control: RunControl, rounds: list) -> threading.Thread:
    """A loop that counts rounds between pauses, until stopped, then ends."""
    def loop() -> None:
        while True:
            control.wait_if_paused()
            if control.stop_requested:
                break
            rounds.append(1)
        control.end()

    thread = threading.Thread(target=loop)
    thread.start()
    return thread


def test_a_paused_loop_halts_and_a_resumed_one_goes_on():
    control, rounds = RunControl(), []
    thread = loop_in_thread(control, rounds)
    assert not control.wait_until_halted(0.02)
    control.pause()
    assert control.wait_until_halted(5) and control.paused
    counted = len(rounds)
    time.sleep(0.05)
    assert len(rounds) == counted  # nothing while paused
    control.resume()
    assert not control.wait_until_halted(0.02) and len(rounds) > counted
    control.stop()
    thread.join(5)
    assert not thread.is_alive() and control.wait_until_halted(0)


def test_resume_then_pause_before_the_loop_wakes_is_halted_again():
    control, rounds = RunControl(), []
    control.pause()
    thread = loop_in_thread(control, rounds)
    assert control.wait_until_halted(5)
    with control._condition:  # resume and pause again while the loop cannot run
        control.resume()
        control.pause()
    assert control.wait_until_halted(5) and rounds == []
    control.stop()
    thread.join(5)


def test_an_ended_loop_stays_halted_whatever_comes_after():
    control, rounds = RunControl(), []
    thread = loop_in_thread(control, rounds)
    control.stop()
    thread.join(5)
    control.resume()
    control.pause()
    control.resume()
    assert control.wait_until_halted(0)
