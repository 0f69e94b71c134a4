"""``dockyard build --progress=tty``: the classic build stream drawn as BuildKit draws its steps.

The daemon streams the classic builder's text (``Step 2/5 : RUN make``,
the step's output, `` ---> Using cache``, `` ---> 1a2b3c``).  ``TtyProgress``
turns that text into a frame (pure: feed text, ask for lines)::

    [+] Building 1.4s (3/5)
     => [1/5] FROM busybox                                    0.0s
     => CACHED [2/5] COPY a /a                                0.0s
     => [3/5] RUN make                                        1.2s
     => => # compiling x.c
     => => # compiling y.c

Finished steps keep one line with their time; the running step shows the
tail of its output.  ``redraw`` gives the escape sequence that replaces the
previous frame in place (cursor up, rewrite, clear the rest), so the CLI
only writes strings.  Notes, warnings and the ``Successfully ...`` lines
go above the frame as plain log lines.  stdlib only, no typing import (CLI
start-up).
"""

from __future__ import annotations

import re
import time

TAIL = 6  # output lines shown under the running step, as BuildKit
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_ARROW = re.compile(r"^ ---> (.*)$")
_LOG = ("Successfully built ", "Successfully tagged ", "[Warning]", "[Note]", "# Executing ")


class _Step:
    __slots__ = ("no", "total", "text", "start", "end", "cached", "failed", "output")

    def __init__(self, no: int, total: int, text: str, start: float) -> None:
        self.no, self.total, self.text, self.start = no, total, text, start
        self.end: float | None = None
        self.cached = False
        self.failed = False
        self.output: list[str] = []


class TtyProgress:
    """The classic build stream -> frames (see the module docstring); ``clock`` is injectable for tests."""

    def __init__(self, clock=time.monotonic, width: int = 80, tail: int = TAIL) -> None:  # type: ignore[no-untyped-def]
        self.clock = clock
        self.width = max(width, 20)
        self.tail = tail
        self.started = clock()
        self.steps: list[_Step] = []
        self.log: list[str] = []  # lines for above the frame, not yet taken
        self._partial = ""
        self.ended: float | None = None

    # -- input -----------------------------------------------------------------------------------
    def feed(self, text: str) -> None:
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line.rstrip("\r"))

    def _line(self, line: str) -> None:
        now = self.clock()
        m = _STEP.match(line)
        if m:
            self._finish(now)
            self.steps.append(_Step(int(m.group(1)), int(m.group(2)), m.group(3), now))
            return
        cur = self.steps[-1] if self.steps else None
        arrow = _ARROW.match(line)
        if arrow and cur is not None:
            what = arrow.group(1)
            if what == "Using cache":
                cur.cached = True
            elif not what.startswith("Running in "):
                self._finish(now)  # " ---> <id>": the step is done
            return
        if line.startswith(_LOG) or cur is None or cur.end is not None:
            self._finish(now)
            self.log.append(line)
            return
        cur.output.append(line)

    def _finish(self, now: float) -> None:
        if self.steps and self.steps[-1].end is None:
            self.steps[-1].end = now

    def fail(self) -> None:
        """The build failed: the running step is marked ERROR and the clock stops."""
        now = self.clock()
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        if self.steps and self.steps[-1].end is None:
            self.steps[-1].failed = True
            self.steps[-1].end = now
        self.ended = now

    def done(self) -> None:
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        self._finish(self.clock())
        self.ended = self.clock()

    def take_log(self) -> list[str]:
        out, self.log = self.log, []
        return out

    # -- output ----------------------------------------------------------------------------------
    def frame(self) -> list[str]:
        now = self.ended if self.ended is not None else self.clock()
        total = self.steps[-1].total if self.steps else 0
        finished = sum(1 for s in self.steps if s.end is not None and not s.failed)
        state = "FINISHED" if self.ended is not None and not any(s.failed for s in self.steps) else ""
        head = f"[+] Building {now - self.started:.1f}s ({finished}/{total}) {state}".rstrip()
        lines = [head]
        for s in self.steps:
            prefix = "CACHED " if s.cached else ("ERROR " if s.failed else "")
            secs = "" if s.cached else f"{((s.end if s.end is not None else now) - s.start):.1f}s"
            lines.append(self._row(f" => {prefix}[{s.no}/{s.total}] {s.text}", secs))
            if s.end is None or s.failed:
                partial = [self._partial] if self._partial and s is self.steps[-1] and s.end is None else []
                for out in (s.output + partial)[-self.tail:]:
                    lines.append(self._clip(f" => => # {out}"))
        return lines

    def _row(self, left: str, right: str) -> str:
        room = self.width - len(right) - 1
        if len(left) > room:
            left = left[:max(room - 3, 0)] + "..."
        return left.ljust(room) + " " + right if right else left[:self.width]

    def _clip(self, line: str) -> str:
        return line if len(line) <= self.width else line[:self.width - 3] + "..."

    def failed_output(self, lines: int = 20) -> list[str]:
        """BuildKit's error box: the failed step and the end of its output."""
        for s in self.steps:
            if s.failed:
                return ["------", f" > [{s.no}/{s.total}] {s.text}:", *s.output[-lines:], "------"]
        return []


def redraw(previous_height: int, log: list[str], frame: list[str]) -> str:
    """The bytes that replace a frame of ``previous_height`` lines by ``log`` lines (kept) and ``frame``."""
    out = []
    if previous_height:
        out.append(f"\x1b[{previous_height}F")  # to the start of the old frame's first line
    for line in [*log, *frame]:
        out.append(line + "\x1b[K\n")
    out.append("\x1b[J")  # whatever the old frame had below the new one
    return "".join(out)


class TtyWriter:
    """Draws a ``TtyProgress`` on a terminal: on new text at most every ``interval`` seconds, on a
    ticker thread while a step is silent (its timer keeps moving), and always at the end."""

    def __init__(self, out, progress: TtyProgress, interval: float = 0.1) -> None:  # type: ignore[no-untyped-def]
        import threading

        self.out = out
        self.p = progress
        self.interval = interval
        self.height = 0
        self.last = -1.0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = threading.Thread(target=self._tick, name="build-progress", daemon=True)

    def start(self) -> "TtyWriter":
        self.ticker.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self.ticker.is_alive():
            self.ticker.join()

    def _tick(self) -> None:
        while not self.stopped.wait(0.25):
            with self.lock:
                if self.p.clock() - self.last >= 0.25:
                    self._draw()

    def feed(self, text: str) -> None:
        with self.lock:
            self.p.feed(text)
            if self.p.clock() - self.last >= self.interval or self.p.log:
                self._draw()

    def finish(self, failed: bool) -> None:
        """Stop the ticker and draw the final frame (and, on failure, the failed step's output)."""
        self.stop()
        with self.lock:
            if failed:
                self.p.fail()
            else:
                self.p.done()
            self._draw()
            if failed:
                self.out.write("".join(line + "\n" for line in self.p.failed_output()))
                self.out.flush()

    def _draw(self) -> None:
        self.last = self.p.clock()
        frame = self.p.frame()
        self.out.write(redraw(self.height, self.p.take_log(), frame))
        self.out.flush()
        self.height = len(frame)
