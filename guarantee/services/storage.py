"""The evidence store: a folder outside the web root, written in step with the transaction.

A file is written before the transaction commits; the edge tells the store whether the
transaction committed or rolled back, so a failed request leaves no file behind. Once COMMIT
has been sent, a failure (the connection lost with the database) leaves it unknown whether the
rows were saved: the files are then kept, since a file no row refers to is only garbage, but a
row whose file was removed is evidence lost.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from guarantee.services.errors import NotFound, ServiceError
from workflows.words import N_


class StorageUnavailable(ServiceError):
    """The evidence store cannot be written to just now."""


@dataclass
class EvidenceStore:
    """A folder outside the web root. Names are random; nothing the uploader sent is used."""

    root: Path
    _written: list[Path] = field(default_factory=list)
    _to_delete: list[Path] = field(default_factory=list)
    _in_doubt: bool = False

    def put(self, data: bytes) -> str:
        name = secrets.token_hex(16)
        path = self.root / name[:2] / name
        temporary = path.with_suffix(".part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.rename(path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)  # no partial file left behind
            raise StorageUnavailable(
                N_("We cannot store evidence just now. Nothing was saved; please try again later.")
            ) from exc
        self._written.append(path)
        return name

    def path(self, name: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", name):
            raise NotFound(N_("There is no such evidence."))
        return self.root / name[:2] / name

    def files_older_than(self, cutoff: float) -> Iterator[tuple[str, Path]]:
        """(name, path) of each file the store made, half-written ones (``.part``) included,
        last changed before ``cutoff`` (a Unix time). Anything else in the folder is left alone."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not (folder.is_dir() and re.fullmatch(r"[0-9a-f]{2}", folder.name)):
                continue
            for path in sorted(folder.iterdir()):
                name = path.name.removesuffix(".part")
                if not (re.fullmatch(r"[0-9a-f]{32}", name) and name.startswith(folder.name)):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < cutoff:
                        yield name, path

    def delete_after_commit(self, name: str) -> None:
        """Delete the file once the transaction that stopped referring to it commits (not before:
        a rollback leaves the rows, which need their files). A delete that fails leaves the file
        for ``remove_unreferenced_files``."""
        self._to_delete.append(self.path(name))

    def committing(self) -> None:
        """The transaction is being committed: from now on its outcome may be unknown."""
        self._in_doubt = True

    def committed(self) -> None:
        for path in self._to_delete:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        self._to_delete.clear()
        self._written.clear()
        self._in_doubt = False

    def rolled_back(self) -> None:
        """Remove what this transaction wrote (no half-saved evidence), unless its commit was
        under way: then the rows may have been saved, and their files must stay."""
        if not self._in_doubt:
            for path in self._written:
                path.unlink(missing_ok=True)
        self._written.clear()
        self._to_delete.clear()
        self._in_doubt = False
