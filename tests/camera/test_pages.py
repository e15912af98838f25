"""Flattening, cleaning, auto-capture, the document and the scan command."""

import json
import subprocess
import sys

import cv2
import img2pdf
import numpy as np
import pytest

from kiosk.devices.camera import Document, StillnessDetector, clean, detect, flatten, open_source
from kiosk.devices.camera.document import pdf_page_count
from kiosk.devices.camera.sources import CameraUnavailable, FolderSource, SimulatedCamera
from kiosk.devices.camera.synth import make_frame


def test_flattened_page_keeps_its_aspect():
    f = make_frame(1280, 720, desk="wood", tilt_deg=18, seed=21)
    page = flatten(f.image, detect(f.image))
    true_w = np.linalg.norm(f.corners[1] - f.corners[0])
    true_h = np.linalg.norm(f.corners[3] - f.corners[0])
    assert page.shape[1] / page.shape[0] == pytest.approx(true_w / true_h, rel=0.06)


def test_cleaning_evens_a_shadow_on_the_paper():
    f = make_frame(1280, 720, desk="grey", tilt_deg=5, seed=4, shadow=True)
    page = flatten(f.image, detect(f.image))
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    cleaned = cv2.cvtColor(clean(page), cv2.COLOR_BGR2GRAY)

    def paper_spread(img):
        # the paper's brightness in a 6×6 grid of cells (the bright half of each cell = paper, not ink)
        h, w = img.shape
        cells = [np.percentile(img[r * h // 6:(r + 1) * h // 6, c * w // 6:(c + 1) * w // 6], 75)
                 for r in range(6) for c in range(6)]
        return max(cells) - min(cells)

    assert paper_spread(cleaned) < paper_spread(gray) / 2
    bw = clean(page, bw=True)
    assert bw.ndim == 2 and set(np.unique(bw)) <= {0, 255}


def test_auto_capture_fires_once_when_the_page_rests():
    cam = SimulatedCamera(960, 540, frames_per_page=30)
    still = StillnessDetector(frames_needed=6)
    fired_at = []
    for n in range(60):
        frame = cam.read()
        if still.update(detect(frame), frame.shape):
            fired_at.append(n)
    # one capture per page, after the page stopped sliding (frames 12.. and 42..)
    assert len(fired_at) == 2
    assert 12 <= fired_at[0] < 30 and 42 <= fired_at[1] < 60


def test_document_pages_add_retake_delete_and_pdf(tmp_path):
    pages = [flatten(f.image, detect(f.image)) for f in
             (make_frame(960, 540, desk=d, tilt_deg=10, seed=s) for d, s in (("wood", 1), ("cloth", 2), ("dark", 3)))]
    doc = Document()
    for p in pages:
        doc.add(p)
    doc.delete(1)
    doc.retake(0, pages[1])
    assert len(doc) == 2
    paths = doc.save(tmp_path, "材料")
    assert [p.name for p in paths] == ["材料-1.jpg", "材料-2.jpg", "材料.pdf"]
    pdf = paths[-1].read_bytes()
    assert pdf.startswith(b"%PDF") and pdf_page_count(pdf) == 2
    assert cv2.imread(str(paths[0])).shape[:2] == pages[1].shape[:2]


def test_folder_source_reads_recorded_frames_in_order(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((40, 60, 3), i * 50, np.uint8))
    src = open_source(str(tmp_path))
    assert isinstance(src, FolderSource)
    values = [int(src.read()[0, 0, 0]) for _ in range(3)]
    assert values == [0, 50, 100] and src.read() is None


def test_missing_camera_is_a_device_error(tmp_path):
    with pytest.raises(CameraUnavailable):
        open_source(str(tmp_path / "no-such-video.mp4"))


def _scan(*args):
    return subprocess.run([sys.executable, "-m", "yizhan.cli", "devices", "scan", *args],
                          capture_output=True, text=True, timeout=60)


def test_scan_command_writes_the_page_and_prints_corners(tmp_path):
    f = make_frame(1280, 720, desk="cloth", tilt_deg=-22, seed=8)
    src = tmp_path / "frame.jpg"
    cv2.imwrite(str(src), f.image)
    out = tmp_path / "page.png"
    r = _scan(str(src), "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    corners = np.array(json.loads(r.stdout)["corners"])
    assert corners.shape == (4, 2)
    assert np.max(np.linalg.norm(corners - f.corners, axis=1)) < 0.015 * np.hypot(1280, 720)
    assert cv2.imread(str(out)) is not None


def test_scan_command_refuses_a_frame_without_a_document(tmp_path):
    src = tmp_path / "desk.jpg"
    cv2.imwrite(str(src), make_frame(1280, 720, desk="wood", seed=2, with_page=False).image)
    r = _scan(str(src), "--out", str(tmp_path / "x.png"))
    assert r.returncode != 0
    assert "没有找到文档" in r.stderr
    assert not (tmp_path / "x.png").exists()
