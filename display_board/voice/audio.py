"""Audio as 16-bit mono numpy arrays at one rate; WAV in and out; the chime."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

RATE = 22050


def read_wav(source: bytes | Path) -> np.ndarray:
    """Any PCM WAV (8/16/32-bit, mono/stereo, any rate) as int16 mono at RATE."""
    fh = wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), "rb")
    with fh:
        channels, width, rate, n = fh.getnchannels(), fh.getsampwidth(), fh.getframerate(), fh.getnframes()
        raw = fh.readframes(n)
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    elif width == 4:
        data = (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    else:
        raise ValueError(f"unsupported WAV sample width {width * 8} bit")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1).astype(np.int16)
    if rate != RATE and len(data):
        positions = np.arange(0, len(data), rate / RATE)
        data = np.interp(positions, np.arange(len(data)), data).astype(np.int16)
    return data


def wav_bytes(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(RATE)
        fh.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()


def write_wav(path: Path, samples: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(wav_bytes(samples))
    tmp.replace(path)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), dtype=np.int16)


def trim(samples: np.ndarray, threshold: int = 300, keep_s: float = 0.01) -> np.ndarray:
    """Cuts leading and trailing silence so concatenated phrases flow."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if not len(loud):
        return samples[:0]
    keep = int(RATE * keep_s)
    return samples[max(0, loud[0] - keep) : loud[-1] + keep + 1]


def chime() -> np.ndarray:
    """A two-note 'ding-dong' (E6 then C6) with a soft decay, like a hall's call chime."""
    out = []
    for freq, dur in ((1318.5, 0.45), (1046.5, 0.7)):
        t = np.arange(int(RATE * dur)) / RATE
        envelope = np.exp(-t * 5.0) * np.minimum(1.0, t / 0.005)
        tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
        out.append((tone * envelope * 0.45 * 32767 / 1.3).astype(np.int16))
    return np.concatenate(out + [silence(0.15)])


def duration(samples: np.ndarray) -> float:
    return len(samples) / RATE
