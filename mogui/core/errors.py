"""Errors mogui shows to users. Each message says what is wrong and how to fix it."""

from __future__ import annotations


class MoguiError(Exception):
    """Base of every user-facing error; ``str(err)`` is a plain-language message."""


class BuildError(MoguiError):
    """The layer graph cannot be built; ``layer`` names where it fails (or ``None``)."""

    def __init__(self, message: str, layer: str | None = None) -> None:
        super().__init__(message)
        self.layer = layer


class CustomCodeError(MoguiError):
    """User-written loss code failed; ``lineno`` is the line in the user's source."""

    def __init__(self, message: str, label: str, lineno: int | None = None,
                 details: str = "") -> None:
        where = f" (line {lineno})" if lineno else ""
        super().__init__(f"{label}{where}: {message}")
        self.label = label
        self.lineno = lineno
        self.reason = message
        self.details = details

    def __reduce__(self) -> tuple:  # pickles (to cross a process pipe) with every field
        return (type(self), (self.reason, self.label, self.lineno, self.details))


class UntrustedCodeError(CustomCodeError):
    """User code that this user has not trusted; none of it ran. ``hashes``: its SHA-256s."""

    def __init__(self, message: str, label: str, hashes: list[str] | None = None) -> None:
        super().__init__(message, label)
        self.hashes = list(hashes or [])

    def __reduce__(self) -> tuple:
        return (type(self), (self.reason, self.label, self.hashes))


class DataError(MoguiError):
    """Training data does not fit the project (missing arrays, wrong shapes, bad labels)."""


class DeviceError(MoguiError):
    """The run asks for more devices than the machine has (``training.devices``)."""


class TrainingError(MoguiError):
    """Training failed for a reason other than the above."""


class ModelFileError(MoguiError):
    """A model file that is missing or is not a valid Keras model file."""


class ExportError(MoguiError):
    """An export request that cannot be carried out (bad format, folder, or nothing trained)."""
