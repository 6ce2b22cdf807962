# SPDX-License-Identifier: Apache-2.0
"""The exception hierarchy: one class per library error code.

Each class also derives from the closest built-in exception, so ``except ValueError`` catches an
:class:`InvalidArgumentError` and ``except TimeoutError`` (the built-in) catches ours.
"""
import builtins


class Error(Exception):
    """Base class of every error the library raises. ``code`` is the stable code name."""

    code = "internal"


class InvalidArgumentError(Error, ValueError):
    """Malformed input: a bad option, file, request or packet."""

    code = "invalid_argument"


class NotFoundError(Error, LookupError):
    """The named thing does not exist."""

    code = "not_found"


class ConflictError(Error):
    """A precondition on current state failed (compare-and-set, lease held by another)."""

    code = "conflict"


class NotLeaderError(Error):
    """This node is not the Raft leader."""

    code = "not_leader"


class TimeoutError(Error, builtins.TimeoutError):  # noqa: A001 - deliberate, also a builtins.TimeoutError
    """A deadline passed; the operation may or may not have taken effect."""

    code = "timeout"


class UnavailableError(Error):
    """Temporarily unavailable (no quorum, peer down, rate limited, resource busy)."""

    code = "unavailable"


class PermissionDeniedError(Error, PermissionError):
    """Not permitted."""

    code = "permission_denied"


class IoError(Error, OSError):
    """The operating system refused a file, socket or process operation."""

    code = "io"


class CorruptError(Error):
    """Stored or received data failed a checksum or structural check."""

    code = "corrupt"


class InternalError(Error):
    """An unexpected failure inside the library."""

    code = "internal"


BY_CODE = {cls.code: cls for cls in (
    InvalidArgumentError, NotFoundError, ConflictError, NotLeaderError, TimeoutError,
    UnavailableError, PermissionDeniedError, IoError, CorruptError, InternalError)}
