"""Policy files in, immutable :class:`~copytrader.core.policy.Policy` values and problems out.

:func:`load_file` reads one file, :func:`load_dir` the policy folder (two files for one
master make both invalid), :func:`locate` gives the core's problems (which know only a
document path) their line and column. Nothing here raises for a bad file: every problem is a
:class:`~copytrader.core.policy.Problem` whose ``str`` is ``PATH:LINE:COL: message``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from copytrader.core.policy import Policy, PolicySource, Problem
from copytrader.errors import ConfigError
from copytrader.policy import schema, yamltree

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedPolicies:
    """What the policy folder holds.

    ``policies`` are the structurally valid ones; ``partials`` what is valid of the files
    with a problem (checked against the platform too, so that a file's every problem is
    reported in one run; never applied); ``problems`` every problem found;
    ``invalid_files`` the paths with a problem; ``invalid_masters`` the masters those files
    name, whose followers must be left alone (a file that does not parse names the master of
    its one top-level ``master:`` line, if it has one); ``files`` maps every file read to the
    SHA-256 of its bytes; ``masters`` maps each file to the master it names, where known.
    """

    policies: tuple[Policy, ...] = ()
    problems: tuple[Problem, ...] = ()
    partials: tuple[Policy, ...] = ()
    invalid_files: tuple[str, ...] = ()
    invalid_masters: frozenset[str] = frozenset()
    files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    masters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class _Read:
    policy: Policy | None
    problems: list[Problem]
    master: str | None  # the master named, even by an invalid file, when it could be read
    sha256: str
    master_at: tuple[int, int] = (1, 1)
    partial: Policy | None = None  # the valid parts of a file with problems


def _bytes(path: Path) -> tuple[bytes, str, int]:
    """At most one byte over the size limit of the file, the SHA-256 of all of it, its size.

    An oversized file is hashed in chunks, never held in memory whole.
    """
    digest = hashlib.sha256()
    with path.open("rb") as f:
        data = f.read(yamltree.MAX_BYTES + 1)
        digest.update(data)
        size = len(data) + _hash_rest(f, digest)
    return data, digest.hexdigest(), size


def _hash_rest(f: BinaryIO, digest: Any) -> int:
    """Feed the rest of ``f`` to ``digest`` in 1 MiB chunks; the number of bytes read."""
    size = 0
    while chunk := f.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return size


def fingerprint(directory: Path) -> dict[str, str] | None:
    """path -> SHA-256 of every policy file of ``directory``, exactly as
    :attr:`LoadedPolicies.files` records them, without parsing anything (cheap: a cache of
    the last load stays valid while this is unchanged). None when the folder or a file
    cannot be read (a full load then reports why)."""
    try:
        files: dict[str, str] = {}
        for path in policy_files(directory):
            digest = hashlib.sha256()
            with path.open("rb") as f:
                _hash_rest(f, digest)
            files[str(path)] = digest.hexdigest()
        return files
    except OSError:
        return None


# A top-level ``master: ID`` line, for a file that does not parse (see _guess_master).
_MASTER_LINE = re.compile(
    r"""^master:[ \t]*(["']?)([0-9A-Za-z_.:-]+)\1[ \t]*(?:#[^\r\n]*)?\r?$""", re.M
)


def _guess_master(data: bytes) -> tuple[str | None, tuple[int, int]]:
    """The master a file that does not parse most likely names (its one top-level
    ``master:`` line) and where. It only marks that master as claimed by an invalid file (so
    its followers are left alone and another file for it is a duplicate); nothing of the
    file is ever applied."""
    text = data.decode("utf-8", "replace")
    found = list(_MASTER_LINE.finditer(text))
    if len(found) != 1:
        return None, (1, 1)
    match = found[0]
    return match.group(2), (
        text.count("\n", 0, match.start()) + 1,
        match.start(1) - match.start() + 1,
    )


def _read(path: Path) -> _Read:
    file = str(path)
    try:
        data, sha, size = _bytes(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return _Read(None, [Problem(file, f"cannot read the file: {reason}", (), 1, 1)], None, "")
    return _parse(file, data, sha, size)


def _parse(file: str, data: bytes, sha: str, size: int) -> _Read:
    """One policy document's bytes (at most one byte over the limit; ``size`` the whole
    file's) read as the file ``file``."""
    if size > yamltree.MAX_BYTES:
        message = f"file is {size} bytes, larger than the limit of {yamltree.MAX_BYTES} bytes"
        return _Read(None, [Problem(file, message, (), 1, 1)], None, sha)
    try:
        root = yamltree.compose(yamltree.decode(data))
    except yamltree.Refusal as exc:
        master, where = _guess_master(data)
        return _Read(None, [Problem(file, exc.message, (), exc.line, exc.col)], master, sha, where)
    if root is None:
        message = "the file is empty: a policy needs at least 'master: BOT_ID'"
        return _Read(None, [Problem(file, message, (), 1, 1)], None, sha)
    problems = [
        Problem(file, message, (), *yamltree.position(node))
        for node, message in yamltree.bad_tags(root)
    ]
    reader = schema.Reader(file)
    policy = reader.policy(root)
    problems = sorted([*problems, *reader.problems], key=lambda p: (p.line, p.col))
    master_at = yamltree.find(root, ("master",))
    if problems or policy is None:
        partial = reader.partial
        if partial is not None:
            partial = dataclasses.replace(partial, source=PolicySource(path=file, sha256=sha))
        return _Read(None, problems, reader.master, sha, master_at, partial)
    policy = dataclasses.replace(policy, source=PolicySource(path=file, sha256=sha))
    return _Read(policy, [], policy.master, sha, master_at)


def load_file(path: Path) -> tuple[Policy | None, list[Problem]]:
    """The policy in ``path`` and no problems, or None and every structural problem found.

    Never raises for the file's content or an unreadable file; checks that need the
    platform are :func:`copytrader.core.policy_checks.validate`'s (then :func:`locate`).
    """
    read = _read(path)
    return read.policy, read.problems


def load_bytes(file: str, data: bytes) -> tuple[Policy | None, list[Problem]]:
    """:func:`load_file` of ``data`` as the content of the file named ``file`` (the policy
    a file would hold before it is written: ``copytrader follower`` checks its result so)."""
    read = _parse(file, data[: yamltree.MAX_BYTES + 1], hashlib.sha256(data).hexdigest(), len(data))
    return read.policy, read.problems


def locate(problems: list[Problem], path: Path, data: bytes | None = None) -> list[Problem]:
    """``problems`` with line and column filled in from the file at ``path`` (or from
    ``data``, that file's content to be).

    Problems that already have a line keep it. A document path that does not resolve takes
    the position of its nearest existing ancestor; an unreadable file leaves line 0.
    """
    try:
        raw = _bytes(path)[0] if data is None else data[: yamltree.MAX_BYTES + 1]
        root = yamltree.compose(yamltree.decode(raw))
    except (OSError, yamltree.Refusal):
        root = None
    located: list[Problem] = []
    for p in problems:
        if p.line or root is None:
            located.append(p)
        else:
            line, col = yamltree.find(root, p.at)
            located.append(dataclasses.replace(p, line=line, col=col))
    return located


def policy_files(directory: Path) -> list[Path]:
    """The policy files of ``directory``: ``*.yaml``/``*.yml``, not hidden, sorted by name."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def check_dir(directory: Path) -> list[Path]:
    """The policy files of ``directory``; ConfigError (``COPYTRADER_POLICY_DIR``, one line)
    when the folder does not exist, is not a folder or cannot be read."""
    if not directory.is_dir():
        what = "does not exist" if not directory.exists() else "is not a folder"
        raise ConfigError(f"COPYTRADER_POLICY_DIR: the policy folder {directory} {what}")
    try:
        return policy_files(directory)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"COPYTRADER_POLICY_DIR: the policy folder {directory} cannot be read: {reason}"
        ) from exc


def load_dir(directory: Path) -> LoadedPolicies:
    """Every policy file of ``directory`` (not recursive), checked structurally.

    Two files for one master make both invalid, each with a problem naming the others.
    Raises ConfigError when the folder does not exist or is not a folder.
    """
    paths = check_dir(directory)
    reads = {str(path): _read(path) for path in paths}
    by_master: dict[str, list[str]] = {}
    for file, read in reads.items():
        if read.master is not None:
            by_master.setdefault(read.master, []).append(file)
    for master, files in by_master.items():
        if len(files) < 2:
            continue
        for file in files:
            others = ", ".join(f for f in files if f != file)
            read = reads[file]
            message = f"master {master} is also the master of {others}: one file per master"
            reads[file] = dataclasses.replace(
                read,
                policy=None,
                partial=read.policy or read.partial,
                problems=sorted(
                    [*read.problems, Problem(file, message, ("master",), *read.master_at)],
                    key=lambda p: (p.line, p.col),
                ),
            )
    invalid = [file for file, read in reads.items() if read.problems]
    return LoadedPolicies(
        policies=tuple(r.policy for r in reads.values() if r.policy is not None),
        problems=tuple(p for r in reads.values() for p in r.problems),
        partials=tuple(r.partial for r in reads.values() if r.partial is not None),
        invalid_files=tuple(invalid),
        invalid_masters=frozenset(m for f in invalid if (m := reads[f].master) is not None),
        files=MappingProxyType({file: read.sha256 for file, read in reads.items()}),
        masters=MappingProxyType(
            {file: read.master for file, read in reads.items() if read.master is not None}
        ),
    )
