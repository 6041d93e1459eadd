"""Checks of a saved model before SB3 reads it: a corrupt, truncated or foreign file fails with a clear message
instead of an ``AssertionError`` deep inside SB3 (or a model that trains with another algorithm's settings), and
nothing half-loaded is returned."""

import io
import json
import pathlib
import zipfile
from collections.abc import Iterable
from typing import Any

_REQUIRED = ("data", "policy.pth")
# The key under which an sb3-notes algorithm records, in a saved model's ``data``, the class that saved it.
SAVED_BY_KEY = "_saved_by"


def resolve_model_path(path: str | pathlib.Path) -> pathlib.Path:
    """
    The file SB3's ``load`` opens for ``path``: the path itself, or, when it does not exist, the path with
    ``.zip`` *appended* (``run.seed1`` → ``run.seed1.zip``, as SB3's ``open_path`` does; not replacing a suffix).

    :param path: The path given to ``load``
    :return: The existing file
    """
    file_path = pathlib.Path(path)
    if not file_path.exists() and pathlib.Path(f"{file_path}.zip").exists():
        file_path = pathlib.Path(f"{file_path}.zip")
    if not file_path.exists():
        raise FileNotFoundError(f"No saved model at {path!s} (nor {path!s}.zip)")
    return file_path


def check_saved_model(path: str | pathlib.Path | io.BufferedIOBase) -> dict[str, Any]:
    """
    Raise ``ValueError`` unless ``path`` holds a complete SB3 model archive: a valid zip whose every member
    passes its CRC check, with a readable ``data`` entry and the policy weights.

    :param path: File path (``.zip`` appended when missing, as SB3 does) or an open binary file
    :return: The ``data`` entry as JSON (attribute name → SB3's serialised value)
    """
    if isinstance(path, (str, pathlib.Path)):
        file_path = resolve_model_path(path)
        name, raw = str(file_path), file_path.read_bytes()
    else:
        name = repr(path)
        start = path.tell()
        raw = path.read()
        path.seek(start)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            missing = [m for m in _REQUIRED if m not in set(archive.namelist())]
            bad = None if missing else archive.testzip()
            data = None if missing or bad is not None else json.loads(archive.read("data").decode())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, UnicodeDecodeError) as err:
        # ValueError covers a JSONDecodeError and zipfile's own complaints about malformed headers
        raise ValueError(f"{name} is not a saved model, or is truncated/corrupt ({type(err).__name__}: {err})") from err
    if missing:
        raise ValueError(f"{name} is not a saved model, or is truncated: the archive lacks {', '.join(missing)}")
    if bad is not None:
        raise ValueError(f"{name} is corrupt: member {bad!r} fails its CRC check")
    if not isinstance(data, dict):
        raise ValueError(f"{name} is not a saved model: its `data` entry is a {type(data).__name__}, not a JSON object")
    return data


def check_saved_class(
    name: str, data: dict[str, Any], cls_names: Iterable[str], cls_name: str, settings: Iterable[str], known: dict[str, Any]
) -> None:
    """
    Raise ``ValueError`` unless the model in ``data`` was saved by the loading class (or one of its bases).

    Files written by sb3-notes record their class under :data:`SAVED_BY_KEY`. For a file without it (written before
    the key existed, or by another library), the loading class's own settings must all be there: a PPOPenalty file
    has no ``cg_damping``, so ``TRPO.load`` refuses it instead of training with ``None`` in its place.

    :param name: How the file is named in the message
    :param data: The file's ``data`` entry (:func:`check_saved_model`)
    :param cls_names: Qualified names (``module.Class``) the file may carry: the loading class and its bases
    :param cls_name: The loading class's short name
    :param settings: The loading class's own hyperparameters (constructor arguments beyond SB3's base class)
    :param known: Short name → settings of other algorithms, to name the one a foreign file belongs to
    """
    saved_by = data.get(SAVED_BY_KEY)
    if isinstance(saved_by, str):
        if saved_by not in set(cls_names):
            short = saved_by.rsplit(".", 1)[-1]
            raise ValueError(
                f"{name} was saved by {short} ({saved_by}); {cls_name}.load accepts only files saved by {cls_name}. "
                f"Load it with {short}.load, or build a {cls_name} and copy the weights with set_parameters()"
            )
        return
    missing = sorted(set(settings) - data.keys())
    if missing:
        owners = [other for other, keys in known.items() if other != cls_name and not set(keys) - data.keys()]
        by = f"by {' or '.join(owners)}" if owners else "by another algorithm"
        raise ValueError(
            f"{name} was saved {by}, not by {cls_name}: it lacks {cls_name}'s settings {', '.join(missing)}. "
            f"Load it with its own class, or build a {cls_name} and copy the weights with set_parameters()"
        )


__all__ = ["SAVED_BY_KEY", "check_saved_class", "check_saved_model", "resolve_model_path"]
