"""Promtail's ``multiline`` stage: lines joined into one entry until the next first line.

A line matching ``firstline`` starts a new block (the block before it goes on); other lines join
the current block with ``\\n``. A block goes on when it reaches ``max_lines``, or when no line
has joined it for ``max_wait_time``. Blocks are kept per label set (per file, in practice), and
a block keeps the time, labels and extracted values of its first line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spyglass.agent._entry import Entry
from spyglass.agent._stages import search_regex
from spyglass.core.config.fields import Section

DEFAULT_MAX_WAIT_MS = 3_000
DEFAULT_MAX_LINES = 128


@dataclass
class _Block:
    first: Entry
    lines: list[str] = field(default_factory=list)
    last_ns: int = 0


class MultilineStage:
    """The ``multiline`` stage (holds entries: see ``tick``)."""

    def __init__(self, firstline: Any, max_wait_ns: int, max_lines: int) -> None:
        self.firstline = firstline
        self.max_wait_ns = max_wait_ns
        self.max_lines = max_lines
        self.blocks: dict[tuple[tuple[str, str], ...], _Block] = {}

    def feed(self, entry: Entry, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """The block this line ends (if it is a first line, or fills a block)."""
        key = tuple(sorted(entry.labels.items()))
        out: list[Entry] = []
        block = self.blocks.get(key)
        if block is not None and self.firstline.search(entry.line) is not None:
            out.append(self._finish(key))
            block = None
        if block is None:
            block = self.blocks[key] = _Block(entry)
        else:
            gone.append(entry)  # folded into the block's first entry
        block.lines.append(entry.line)
        block.last_ns = now_ns
        if len(block.lines) >= self.max_lines:
            out.append(self._finish(key))
        return out

    def tick(self, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """Blocks no line has joined for ``max_wait_time``."""
        del gone
        due = [k for k, b in self.blocks.items() if now_ns - b.last_ns >= self.max_wait_ns]
        return [self._finish(k) for k in due]

    def _finish(self, key: tuple[tuple[str, str], ...]) -> Entry:
        block = self.blocks.pop(key)
        block.first.line = "\n".join(block.lines)
        return block.first


def build_multiline(s: Section) -> MultilineStage:
    """The ``multiline`` stage."""
    if not s.text("firstline"):
        raise s.error(
            "firstline", "multiline stage config must define `firstline` regular expression"
        )
    wait_ms = s.dur("max_wait_time") if "max_wait_time" in s else DEFAULT_MAX_WAIT_MS
    if "max_wait_time" in s and wait_ms <= 0:
        raise s.error(
            "max_wait_time", "multiline stage config max_wait_time must be greater than 0"
        )
    lines = s.count("max_lines") if "max_lines" in s else DEFAULT_MAX_LINES
    if lines < 1:
        raise s.error("max_lines", "multiline stage config max_lines must be greater than 0")
    return MultilineStage(search_regex(s, "firstline"), wait_ms * 1_000_000, lines)


__all__ = ["DEFAULT_MAX_LINES", "DEFAULT_MAX_WAIT_MS", "MultilineStage", "build_multiline"]
