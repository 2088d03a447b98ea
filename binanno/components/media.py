"""Folders of images and audio as tasks (Prodigy's ``Images``, ``ImageServer``, ``Audio``, ``AudioServer``),
and the folders the server may serve files from.

``Images`` and ``Audio`` put each file in its task as a base64 data URI, so the task is whole in the
database; the ``*Server`` loaders put a URL instead (``/media/FOLDER/NAME``) and register the folder:
the server answers that URL from registered folders only, never with a file outside them.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from ..errors import UserError
from ..types import Task

IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".svg", ".avif")
AUDIO_TYPES = (".mp3", ".wav", ".ogg", ".oga", ".m4a", ".flac", ".aac", ".opus", ".webm")
MEDIA_ROUTE = "/media"

# Folder token -> (folder, the file types it serves): what ImageServer / AudioServer registered in this process.
_SERVED: dict[str, tuple[Path, tuple[str, ...]]] = {}


def _folder(source: str | Path, kind: str) -> Path:
    path = Path(source).expanduser()
    if not path.exists():
        raise UserError(f"Can't find the {kind} folder '{source}': check the path")
    if not path.is_dir():
        raise UserError(f"'{source}' is a file: the {kind} loaders read a folder of {kind} files")
    return path.resolve()


def _files(folder: Path, types: tuple[str, ...]) -> Iterator[Path]:
    # Sorted, so the order (and the first questions) are the same on every run.
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in types and not path.name.startswith("."):
            yield path


def media_type(path: Path) -> str:
    """The MIME type of a media file, from its extension."""
    return mimetypes.guess_type(path.name)[0] or ("image/svg+xml" if path.suffix.lower() == ".svg" else "application/octet-stream")


def data_uri(path: Path) -> str:
    """The file's bytes as a ``data:`` URI (what ``Images`` and ``Audio`` put in a task)."""
    return bytes_uri(media_type(path), path.read_bytes())


def bytes_uri(kind: str, data: bytes) -> str:
    """``data`` as a base64 ``data:`` URI of MIME type ``kind``."""
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _task(key: str, value: str, path: Path) -> Task:
    return {key: value, "path": str(path), "meta": {"file": path.name}}  # type: ignore[misc]


def Images(source: str | Path) -> Iterator[Task]:  # noqa: N802 (Prodigy's name)
    """Each image of a folder as a task: ``image`` holds it as a data URI, with its ``path`` and ``meta.file``."""
    folder = _folder(source, "image")
    return (_task("image", data_uri(p), p) for p in _files(folder, IMAGE_TYPES))


def Audio(source: str | Path) -> Iterator[Task]:  # noqa: N802 (Prodigy's name)
    """Each audio file of a folder as a task: ``audio`` holds it as a data URI, with its ``path`` and ``meta.file``."""
    folder = _folder(source, "audio")
    return (_task("audio", data_uri(p), p) for p in _files(folder, AUDIO_TYPES))


def serve_folder(folder: Path, types: tuple[str, ...]) -> str:
    """Let the server answer ``/media/TOKEN/NAME`` with the files of ``folder`` of these types; returns TOKEN.

    The token comes from the folder's path, so a task's URL (and its hashes) is the same on every run.
    """
    folder = folder.resolve()
    token = hashlib.blake2b(str(folder).encode("utf8", "surrogatepass"), digest_size=6).hexdigest()
    known = _SERVED.get(token)
    _SERVED[token] = (folder, tuple(sorted({*types, *(known[1] if known else ())})))
    return token


def served_file(token: str, name: str) -> Path | None:
    """The file ``name`` of a registered folder, or None: unknown folder, a path that leaves it
    (``..``, an absolute path, a link pointing out), a hidden file or a type it doesn't serve."""
    entry = _SERVED.get(token)
    if entry is None or "\0" in name:
        return None
    folder, types = entry
    try:
        target = (folder / name).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not target.is_relative_to(folder) or target == folder or not target.is_file():
        return None
    if target.suffix.lower() not in types or any(part.startswith(".") for part in target.relative_to(folder).parts):
        return None
    return target


def _server(source: str | Path, key: str, kind: str, types: tuple[str, ...]) -> Iterator[Task]:
    folder = _folder(source, kind)
    token = serve_folder(folder, types)
    return (_task(key, f"{MEDIA_ROUTE}/{token}/{quote(p.name)}", p) for p in _files(folder, types))


def ImageServer(source: str | Path) -> Iterator[Task]:  # noqa: N802 (Prodigy's name)
    """Each image of a folder as a task whose ``image`` is a URL this server serves (small tasks, big images)."""
    return _server(source, "image", "image", IMAGE_TYPES)


def AudioServer(source: str | Path) -> Iterator[Task]:  # noqa: N802 (Prodigy's name)
    """Each audio file of a folder as a task whose ``audio`` is a URL this server serves."""
    return _server(source, "audio", "audio", AUDIO_TYPES)


MEDIA_LOADERS = {"images": Images, "image-server": ImageServer, "audio": Audio, "audio-server": AudioServer}
