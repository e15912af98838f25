"""A scanned document: its pages, retake and delete, saved as JPEG pages and one PDF."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import img2pdf
import numpy as np

JPEG_QUALITY = 85
DPI = 200  # the PDF's page size follows from the pixels at this resolution


def encode_jpeg(page: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


@dataclass
class Document:
    pages: list[np.ndarray] = field(default_factory=list)

    def add(self, page: np.ndarray) -> int:
        self.pages.append(page)
        return len(self.pages) - 1

    def retake(self, index: int, page: np.ndarray) -> None:
        self.pages[index] = page

    def delete(self, index: int) -> None:
        del self.pages[index]

    def __len__(self) -> int:
        return len(self.pages)

    def jpegs(self) -> list[bytes]:
        return [encode_jpeg(p) for p in self.pages]

    def pdf(self) -> bytes:
        if not self.pages:
            raise ValueError("a document needs at least one page")
        layout = img2pdf.get_fixed_dpi_layout_fun((DPI, DPI))
        return img2pdf.convert(self.jpegs(), layout_fun=layout)

    def save(self, folder: Path | str, stem: str = "page") -> list[Path]:
        """Writes page-1.jpg … and <stem>.pdf; returns the paths (PDF last)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, data in enumerate(self.jpegs(), 1):
            p = folder / f"{stem}-{i}.jpg"
            p.write_bytes(data)
            paths.append(p)
        pdf = folder / f"{stem}.pdf"
        pdf.write_bytes(self.pdf())
        paths.append(pdf)
        return paths

    def thumbnails(self, height: int = 160) -> list[np.ndarray]:
        return [cv2.resize(p, (max(1, p.shape[1] * height // p.shape[0]), height), interpolation=cv2.INTER_AREA)
                for p in self.pages]


def pdf_page_count(data: bytes) -> int:
    """Pages in a PDF made by img2pdf (counts /Type /Page objects); for checks and tests."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?!s)", data))
