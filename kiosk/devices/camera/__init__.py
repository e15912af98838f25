"""The document camera (高拍仪): frames in, flattened clean pages out.

API for the kiosk's scan screen:
    src = open_source(cfg.source)            # camera index, video URL/file, image folder, simulator
    frame = src.read()
    corners = detect(frame)                  # 4×2 clockwise from top-left, or None
    still.update(corners, frame.shape)       # True once when the page rests: capture
    page = clean(flatten(frame, corners), bw=False)
    doc.add(page) / doc.retake(i, page) / doc.delete(i); doc.save(dir); upload_document(...)
"""

from kiosk.devices.camera.detect import detect, order_corners
from kiosk.devices.camera.document import Document
from kiosk.devices.camera.flatten import black_and_white, clean, even_light, flatten
from kiosk.devices.camera.sources import CameraUnavailable, FrameSource, open_source
from kiosk.devices.camera.stillness import StillnessDetector
from kiosk.devices.camera.upload import UploadError, upload_document

__all__ = [
    "detect", "order_corners", "Document", "flatten", "clean", "even_light", "black_and_white",
    "FrameSource", "open_source", "CameraUnavailable", "StillnessDetector", "upload_document", "UploadError",
]
