"""Small real media files for the loader and browser tests: a PNG any browser decodes, a WAV any player plays."""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path


def write_png(path: Path, width: int = 3, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> Path:
    """A solid-colour RGB PNG of ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def write_wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> Path:
    """A mono 16-bit WAV of a square wave."""
    frames = b"".join(struct.pack("<h", 8000 if (i // 20) % 2 else -8000) for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(frames)
    return path
