"""Checks a saved model before SB3 reads it, so that a corrupt or truncated file fails with a clear message
instead of an ``AssertionError`` deep inside SB3, and nothing half-loaded is returned."""

import io
import json
import pathlib
import zipfile
from typing import Any

_REQUIRED = ("data", "policy.pth")


def check_saved_model(path: str | pathlib.Path | io.BufferedIOBase) -> None:
    """
    Raise ``ValueError`` unless ``path`` holds a complete SB3 model archive: a valid zip whose every member
    passes its CRC check, with a readable ``data`` entry and the policy weights.

    :param path: File path (``.zip`` appended when missing, as SB3 does) or an open binary file
    """
    if isinstance(path, (str, pathlib.Path)):
        file_path = pathlib.Path(path)
        if not file_path.exists() and file_path.with_suffix(".zip").exists():
            file_path = file_path.with_suffix(".zip")
        if not file_path.exists():
            raise FileNotFoundError(f"No saved model at {path!s} (nor {path!s}.zip)")
        name, raw = str(file_path), file_path.read_bytes()
    else:
        name = repr(path)
        start = path.tell()
        raw = path.read()
        path.seek(start)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = set(archive.namelist())
            missing = [m for m in _REQUIRED if m not in members]
            if missing:
                raise ValueError(f"{name} is not a saved model, or is truncated: the archive lacks {', '.join(missing)}")
            bad = archive.testzip()
            if bad is not None:
                raise ValueError(f"{name} is corrupt: member {bad!r} fails its CRC check")
            json.loads(archive.read("data").decode())
    except (zipfile.BadZipFile, EOFError, OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{name} is not a saved model, or is truncated/corrupt ({type(err).__name__}: {err})") from err


class CheckedLoadMixin:
    """Put first in an algorithm's bases: ``load`` checks the file before SB3 reads it."""

    @classmethod
    def load(cls, path: Any, *args: Any, **kwargs: Any) -> Any:
        """
        SB3's ``load`` (same arguments), after :func:`check_saved_model`.

        :param path: Path to the file (or a file-like object) to load the agent from
        :param args: SB3's ``load`` positional arguments (``env``, ``device``, ...)
        :param kwargs: SB3's ``load`` keyword arguments
        :return: The loaded model
        """
        check_saved_model(path)
        return super().load(path, *args, **kwargs)  # type: ignore[misc]


__all__ = ["CheckedLoadMixin", "check_saved_model"]
