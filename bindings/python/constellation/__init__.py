# SPDX-License-Identifier: Apache-2.0
"""Python bindings of libconstellation, the Constellation cluster agent library.

Every failure the library reports is raised as a subclass of :class:`constellation.Error`,
one per error code (see :mod:`constellation.errors`).
"""
from .errors import (
    ConflictError,
    CorruptError,
    Error,
    InternalError,
    InvalidArgumentError,
    IoError,
    NotFoundError,
    NotLeaderError,
    PermissionDeniedError,
    TimeoutError,
    UnavailableError,
)
from ._constellation import Agent, canonical_json, version, version_number
from ._constellation import DnsEngine, hostnames_from_rule, normalize_hostname
from ._constellation import KvEntry, LeaseGrant, LeaseInfo, RaftNode, RaftStatus

__version__ = version()

__all__ = [
    "Agent",
    "ConflictError",
    "CorruptError",
    "DnsEngine",
    "Error",
    "InternalError",
    "InvalidArgumentError",
    "IoError",
    "KvEntry",
    "LeaseGrant",
    "LeaseInfo",
    "NotFoundError",
    "NotLeaderError",
    "PermissionDeniedError",
    "RaftNode",
    "RaftStatus",
    "TimeoutError",
    "UnavailableError",
    "__version__",
    "canonical_json",
    "hostnames_from_rule",
    "normalize_hostname",
    "version",
    "version_number",
]
