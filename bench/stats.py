"""Small statistics and table helpers shared by the benchmarks (no timing assertions)."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


@dataclass(frozen=True)
class Row:
    """One line of a comparison table: a figure for cobrowse next to its bare baseline."""

    metric: str
    cobrowse: float
    bare: float
    unit_format: str = "{:.2f}"
    show_ratio: bool = True

    def cells(self) -> tuple[str, str, str, str]:
        ratio = self.cobrowse / self.bare if self.bare and self.show_ratio else math.nan
        return (
            self.metric,
            _fmt(self.unit_format, self.cobrowse),
            _fmt(self.unit_format, self.bare),
            "" if math.isnan(ratio) else f"{ratio:.2f}x",
        )


def _fmt(template: str, value: float) -> str:
    return "n/a" if math.isnan(value) else template.format(value)


def render_table(
    title: str, rows: Iterable[Row], notes: Iterable[str] = (), cobrowse: str = "cobrowse"
) -> str:
    """The rows under ``title``; ``cobrowse`` names the column of the cobrowse figures."""
    header = ("metric", cobrowse, "bare relay", f"{cobrowse}/bare")
    body = [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]

    def line(cells: tuple[str, str, str, str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    out = [title, "", line(header), rule, *(line(cells) for cells in body)]
    out += [f"  {note}" for note in notes]
    return "\n".join(out)


def deflated_sizes(frames: Iterable[bytes], window_bits: int = 12) -> list[int]:
    """Estimated on-the-wire size of each client frame under permessage-deflate.

    Models what a browser does with the parameters uvicorn negotiates (a 12-bit
    window, context takeover kept): one raw deflate stream, sync-flushed after each
    message with the 4-byte ``00 00 ff ff`` tail removed, plus the frame header and
    the 4-byte client masking key. An estimate: the browser's zlib level and memory
    settings may differ slightly.
    """
    compressor = zlib.compressobj(-1, zlib.DEFLATED, -window_bits)
    sizes = []
    for frame in frames:
        body = compressor.compress(frame) + compressor.flush(zlib.Z_SYNC_FLUSH)
        payload = len(body) - 4
        header = 2 if payload < 126 else 4 if payload < 65536 else 10
        sizes.append(payload + header + 4)
    return sizes
