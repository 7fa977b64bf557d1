"""Text measured and wrapped for SVG boxes, with DejaVu Sans metrics where the font is installed.

SVG has no automatic line wrapping, so the strategy map wraps objective names itself. Widths come
from the font's advance widths (fontTools, a WeasyPrint dependency) when Debian's
fonts-dejavu-core is present, else from a deliberately generous average, so text never overflows.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
FALLBACK_EM = {False: 0.62, True: 0.70}  # wider than DejaVu's real average: errs on the safe side
ELLIPSIS = "\u2026"


@lru_cache(maxsize=2)
def _advances(bold: bool) -> tuple[dict[int, float], float] | None:
    """Advance widths in em per code point, and the font's average, or None without the font."""
    for folder in FONT_DIRS:
        path = folder / FONT_FILES[bold]
        if path.is_file():
            from fontTools.ttLib import TTFont

            with TTFont(str(path), lazy=True) as font:
                units = font["head"].unitsPerEm
                metrics = font["hmtx"].metrics
                widths = {
                    cp: metrics[name][0] / units
                    for cp, name in font.getBestCmap().items()
                    if name in metrics
                }
            return widths, sum(widths.values()) / max(1, len(widths))
    return None


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of `text` set in DejaVu Sans at `size` (same unit as size)."""
    found = _advances(bold)
    if found is None:
        return len(text) * FALLBACK_EM[bold] * size
    widths, average = found
    return sum(widths.get(ord(ch), average) for ch in text) * size


def _cut(word: str, width: float, size: float, bold: bool) -> str:
    """The longest head of `word` that fits `width` with an ellipsis (widths add up, so one pass
    over the characters finds it: linear in the length, however long the text)."""
    room = width - text_width(ELLIPSIS, size, bold)
    used, end = 0.0, 0
    for end, char in enumerate(word):  # noqa: B007 - `end` is the cut when the loop breaks
        used += text_width(char, size, bold)
        if used > room - 1e-9:  # never past the width, whatever the rounding
            break
    else:
        end = len(word)
    return word[:end] + ELLIPSIS


def wrap(text: str, width: float, size: float, max_lines: int, bold: bool = False) -> list[str]:
    """`text` broken into at most `max_lines` lines of at most `width`; the last one ellipsized."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for index, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if text_width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            rest = " ".join(words[index:])
            if text_width(rest, size, bold) > width:
                rest = _cut(rest, width, size, bold)
            return [*lines, rest]
        if text_width(word, size, bold) > width:
            current = _cut(word, width, size, bold)
    if current:
        lines.append(current)
    return lines[:max_lines]
