"""Looking at a rendered PDF as pictures: blank pages and ink outside the printable area."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image

DPI = 40
INK = 200  # a grey level darker than this is ink
MM = DPI / 25.4  # pixels per millimetre
SIDE_MM, TOP_MM, BOTTOM_MM = 10.0, 6.0, 8.0  # inside the page margins (14, 16, 18 mm)


def rasterize(pdf: Path, folder: Path) -> list[Path]:
    """Every page as a greyscale PNG (pdftoppm from poppler-utils)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise RuntimeError("pdftoppm is missing: apt-get install poppler-utils")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [tool, "-gray", "-png", "-r", str(DPI), str(pdf), str(folder / "page")],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return sorted(folder.glob("page-*.png"))


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    region = image.crop(box)
    return sum(count for level, count in enumerate(region.histogram()) if level < INK)


def page_problems(pdf: Path, folder: Path) -> list[str]:
    """What is wrong with the pages: blank ones, and ink in the outer margins."""
    problems = []
    for path in rasterize(pdf, folder):
        with Image.open(path) as image:
            width, height = image.size
            side, top, bottom = int(SIDE_MM * MM), int(TOP_MM * MM), int(BOTTOM_MM * MM)
            body = (side, top, width - side, height - bottom)
            if _ink(image, body) < width * height * 0.002:
                problems.append(f"{path.name}: blank")
            for name, box in (
                ("left", (0, 0, side, height)),
                ("right", (width - side, 0, width, height)),
                ("top", (0, 0, width, top)),
                ("bottom", (0, height - bottom, width, height)),
            ):
                if _ink(image, box):
                    problems.append(f"{path.name}: ink in the {name} margin")
    return problems
