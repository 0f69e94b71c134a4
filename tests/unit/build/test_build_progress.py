"""The ``--progress=tty`` renderer as a pure unit: feed the classic stream's text, check the frames."""

from __future__ import annotations

import io

from dockyard.cli.buildprogress import TtyProgress, TtyWriter, redraw


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(width: int = 60) -> tuple[TtyProgress, Clock]:
    clock = Clock()
    return TtyProgress(clock=clock, width=width, tail=3), clock


def test_steps_cached_running_with_output_tail_then_finished():
    p, clock = _progress()
    p.feed("Step 1/3 : FROM busybox\n ---> 1a2b3c\n")
    clock.now += 0.5
    p.feed("Step 2/3 : COPY a /a\n ---> Using cache\n ---> 4d5e6f\n")
    p.feed("Step 3/3 : RUN make\n ---> Running in 0123456789ab\n")
    clock.now += 1.25
    p.feed("one\ntwo\nthree\nfour\nfive (no newline yet")  # chunks need not end at a line
    frame = p.frame()
    assert frame[0] == "[+] Building 1.8s (2/3)"
    assert frame[1].startswith(" => [1/3] FROM busybox") and frame[1].endswith(" 0.0s")
    assert frame[2].startswith(" => CACHED [2/3] COPY a /a") and not frame[2].endswith("s")
    assert frame[3].startswith(" => [3/3] RUN make") and frame[3].endswith(" 1.2s")  # still ticking
    assert frame[4:] == [" => => # three", " => => # four", " => => # five (no newline yet"]  # the tail
    assert all(len(line) <= 60 for line in frame)

    p.feed(")\n ---> 777777\nSuccessfully built 777777\nSuccessfully tagged x:latest\n")
    p.done()
    clock.now += 3
    frame = p.frame()
    assert frame[0] == "[+] Building 1.8s (3/3) FINISHED"  # the clock stopped when the build ended
    assert len(frame) == 4  # finished steps keep one line each, their output folded away
    assert p.take_log() == ["Successfully built 777777", "Successfully tagged x:latest"]
    assert p.take_log() == []


def test_a_failed_step_shows_error_and_its_output():
    p, clock = _progress()
    p.feed("Step 1/2 : FROM busybox\n ---> 1a\nStep 2/2 : RUN false\n ---> Running in ab\nboom\n")
    clock.now += 2
    p.fail()
    frame = p.frame()
    assert frame[0] == "[+] Building 2.0s (1/2)"
    assert frame[2].startswith(" => ERROR [2/2] RUN false") and frame[2].endswith("2.0s")
    assert frame[3] == " => => # boom"
    assert p.failed_output() == ["------", " > [2/2] RUN false:", "boom", "------"]


def test_long_lines_are_clipped_to_the_width():
    p, _ = _progress(width=30)
    p.feed("Step 1/1 : RUN " + "x" * 100 + "\n" + "y" * 100 + "\n")
    frame = p.frame()
    assert frame[1].endswith("... 0.0s") and len(frame[1]) == 30
    assert frame[2].endswith("...") and len(frame[2]) == 30


def test_notes_and_warnings_go_above_the_frame():
    p, _ = _progress()
    p.feed("[Note] the syntax directive is ignored\nStep 1/1 : FROM busybox\n")
    assert p.take_log() == ["[Note] the syntax directive is ignored"]
    assert p.frame()[1].startswith(" => [1/1] FROM busybox")


def test_redraw_moves_up_rewrites_and_clears():
    assert redraw(0, [], ["a", "b"]) == "a\x1b[K\nb\x1b[K\n\x1b[J"
    assert redraw(2, ["log"], ["a"]) == "\x1b[2Flog\x1b[K\na\x1b[K\n\x1b[J"


def test_writer_replaces_each_frame_in_place():
    clock = Clock()
    out = io.StringIO()
    w = TtyWriter(out, TtyProgress(clock=clock, width=40), interval=0.1)
    w.feed("Step 1/2 : FROM busybox\n")
    first = out.getvalue()
    assert first.startswith("[+] Building 0.0s (0/2)")
    w.feed(" ---> 1a\n")  # within the interval: not drawn yet
    assert out.getvalue() == first
    clock.now += 0.2
    w.feed("Step 2/2 : RUN true\n")
    assert out.getvalue()[len(first):].startswith("\x1b[2F")  # back over the 2-line frame
    w.finish(failed=False)
    assert "(2/2) FINISHED" in out.getvalue() and out.getvalue().endswith("\x1b[J")
    assert not w.ticker.is_alive()
