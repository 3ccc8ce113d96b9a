"""Downloads of MNIST, Fashion-MNIST and CIFAR-10, verified by SHA-256 and moved into place atomically.

Plumbing, not part of the paper, needed only with internet access: everything else in :mod:`horq_ref`
runs on the embedded MNIST subset or on files the user already has.

How a file is fetched (:func:`fetch_verified`)
----------------------------------------------
1. The response is streamed into a temporary file in the destination directory while its SHA-256 is
   computed, so nothing is read twice and a large file is never held in memory.
2. The byte count is compared with the announced ``Content-Length`` (and the registry's size): a
   connection closed early gives a :class:`DownloadError`, never a short file; a server sending more
   than the registry's size + :data:`SIZE_MARGIN` is cut off there, verified or not.
3. The digest is compared with the expected one: a mismatch gives a :class:`ChecksumError` naming both.
4. Only then is the temporary file renamed onto its name (:func:`os.replace`); on any failure it is
   removed; a ``.part`` file left by a killed process is removed by the next :func:`download`.
   URLs and redirects are followed for http:// and https:// only.

The registry
------------
:data:`REGISTRY` lists per data set a base URL and its files' SHA-256 and size, as recorded for
these URLs in the ``url_checksums`` of TensorFlow Datasets. A mirror (``base_url``) must have the
same bytes. An entry without ``sha256`` is refused unless verification is switched off. CIFAR-10's
``tar.gz`` is unpacked by :func:`extract_tar` after checking every member (no absolute paths, no
``..``, no links or device files). Only :mod:`urllib` is used.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..checks import check_int, check_real
from ..io.atomic import atomic_output

__all__ = ["RemoteFile", "Source", "REGISTRY", "DownloadError", "ChecksumError", "file_sha256",
           "fetch_verified", "extract_tar", "download"]

_CHUNK = 1 << 16
SIZE_MARGIN = 1 << 20  # bytes accepted beyond the registry's size before a transfer is cut off
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name under the base URL, SHA-256 (hex) and size in bytes."""

    filename: str
    sha256: str | None
    size: int | None = None


@dataclass(frozen=True)
class Source:
    """Where a data set lives: a base URL, its files, and whether they are archives to unpack."""

    base_url: str
    files: tuple
    extract: bool = False


REGISTRY = {
    "mnist": Source("https://storage.googleapis.com/cvdf-datasets/mnist/", (
        RemoteFile("train-images-idx3-ubyte.gz",
                   "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        RemoteFile("train-labels-idx1-ubyte.gz",
                   "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        RemoteFile("t10k-images-idx3-ubyte.gz",
                   "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        RemoteFile("t10k-labels-idx1-ubyte.gz",
                   "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    )),
    "fashion-mnist": Source("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", (
        RemoteFile("train-images-idx3-ubyte.gz",
                   "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
        RemoteFile("train-labels-idx1-ubyte.gz",
                   "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        RemoteFile("t10k-images-idx3-ubyte.gz",
                   "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        RemoteFile("t10k-labels-idx1-ubyte.gz",
                   "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
    )),
    "cifar10": Source("https://www.cs.toronto.edu/~kriz/", (
        RemoteFile("cifar-10-binary.tar.gz",
                   "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170052171),
    ), extract=True),
}


class DownloadError(OSError):
    """A transfer failed: no connection, an HTTP error, fewer bytes than announced or too many."""


class ChecksumError(DownloadError):
    """The bytes received do not have the expected SHA-256."""


def file_sha256(path):
    """The SHA-256 of a file's bytes, as 64 lowercase hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_sha256(sha256):
    if sha256 is not None and (not isinstance(sha256, str) or not _HEX64.fullmatch(sha256.lower())):
        raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
    return sha256 and sha256.lower()


def _check_url(url, name="url"):
    """``url`` if it parses as an http:// or https:// URL with a host; else ``ValueError``."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # e.g. "http://[::1": an unclosed IPv6 address
        raise ValueError(f"{name} {url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name} must be an http:// or https:// URL, got {url!r}")
    return url


class _HttpRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http:// and https:// URLs only (urllib alone also follows ftp://)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_url(urllib.parse.urljoin(req.full_url, newurl), f"{req.full_url} redirects: the target")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _open_url(url, timeout):
    """The HTTP response for ``url``, or a :class:`DownloadError` saying why not."""
    _check_url(url)
    opener = urllib.request.build_opener(_HttpRedirects)  # reads the environment's proxies now
    try:
        return opener.open(urllib.request.Request(url, headers={"User-Agent": "horq-ref"}),
                           timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: cannot connect ({exc.reason})") from None
    except (http.client.HTTPException, OSError) as exc:
        raise DownloadError(f"{url}: cannot connect ({exc!r})") from None


def _stream(response, fh, url, limit=None):
    """Copy ``response`` into ``fh``, at most ``limit`` bytes; return ``(sha256 hex, byte count)``."""
    h, n = hashlib.sha256(), 0
    while True:
        if limit is not None and n > limit:
            raise DownloadError(f"{url}: sent more than {limit} bytes (expected size + margin)")
        try:
            chunk = response.read(_CHUNK)
        except (http.client.HTTPException, OSError) as exc:
            raise DownloadError(f"{url}: transfer failed after {n} bytes ({exc!r})") from None
        if not chunk:
            return h.hexdigest(), n
        h.update(chunk)
        fh.write(chunk)
        n += len(chunk)


def _check_received(url, n, digest, announced, sha256, size):
    """Raise unless ``n`` bytes with this digest are the whole announced, expected file."""
    if announced is not None:
        if not announced.strip().isdigit():
            raise DownloadError(f"{url}: invalid Content-Length {announced!r}")
        if n != int(announced):
            raise DownloadError(f"{url}: truncated transfer: received {n} of the {int(announced)} "
                                f"bytes announced (connection closed early)")
    if sha256 is not None and digest != sha256:
        sizes = f"{n} bytes" + (f", expected {size}" if size is not None else "")
        raise ChecksumError(f"{url}: SHA-256 mismatch: expected {sha256}, got {digest} "
                            f"({sizes}); the file was not saved")
    if size is not None and n != size:
        raise DownloadError(f"{url}: received {n} bytes, expected a file of {size} bytes")


def fetch_verified(url, dest, sha256, size=None, timeout=60.0, max_bytes=None):
    """Download ``url`` to ``dest`` if and only if its bytes have the given SHA-256.

    ``url`` is http:// or https:// (so is every redirect followed); ``dest`` the final path (its
    folder is created); ``sha256`` the expected digest, 64 hex digits (None: not compared);
    ``size`` the expected bytes; ``timeout`` the seconds to wait for the connection and each read
    (finite, > 0); the transfer stops beyond ``max_bytes`` (default ``size + SIZE_MARGIN``).
    Returns the SHA-256 of the file now at ``dest``.

    Raises
    ------
    ChecksumError
        Naming the expected and the actual digest.
    DownloadError
        If the connection fails, the server answers with an HTTP error, or fewer bytes arrive than
        announced. In every failure ``dest`` is left as it was and no temporary file remains.
    """
    sha256 = _check_sha256(sha256)
    timeout = check_real(timeout, "timeout", minimum=0.0, exclusive_minimum=True)
    limit = (check_int(max_bytes, "max_bytes", minimum=0) if max_bytes is not None else
             None if size is None else check_int(size, "size", minimum=0) + SIZE_MARGIN)
    dest = Path(dest)
    with _open_url(url, timeout) as response, atomic_output(dest) as fh:
        digest, n = _stream(response, fh, url, limit)
        _check_received(url, n, digest, response.headers.get("Content-Length"), sha256, size)
    return digest


def _member_target(root, member, archive):
    """Where ``member`` goes under ``root``; ValueError if that is outside it or not a plain file."""
    if not (member.isfile() or member.isdir()):
        raise ValueError(f"{archive}: refusing member {member.name!r}: only regular files and "
                         f"directories are extracted (no links or special files)")
    parts = PurePosixPath(member.name).parts  # "." has none: the destination itself
    if not (parts or member.isdir()) or PurePosixPath(member.name).is_absolute() or ".." in parts \
            or "\\" in member.name:
        raise ValueError(f"{archive}: refusing member {member.name!r}: path leaves the destination")
    target = (root / Path(*parts)).resolve()
    if root != target and root not in target.parents:
        raise ValueError(f"{archive}: refusing member {member.name!r}: resolves to {target}, "
                         f"outside {root}")
    return target


def extract_tar(archive, dest_dir):
    """Unpack a (compressed) tar archive into ``dest_dir`` after checking every member.

    Every member must be a regular file or directory whose path stays inside ``dest_dir``; one bad
    member refuses the whole archive before anything is written. Returns the files written."""
    root, written = Path(dest_dir).resolve(), []
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            targets = [_member_target(root, m, archive) for m in members]
            for member, target in zip(members, targets):
                (target if member.isdir() else target.parent).mkdir(parents=True, exist_ok=True)
                if member.isdir():
                    continue
                with tar.extractfile(member) as src, atomic_output(target) as fh:
                    shutil.copyfileobj(src, fh, _CHUNK)
                written.append(target)
    except (tarfile.TarError, EOFError) as exc:
        raise ValueError(f"{archive}: damaged or not a tar archive ({exc})") from None
    return written


def download(name, data_dir, base_url=None, timeout=60.0, verify=True, log=None):
    """Fetch a data set of :data:`REGISTRY` into ``data_dir``, verified, skipping files already there.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "cifar10"}
    data_dir : str or os.PathLike
        Where the files land and :func:`~horq_ref.data.datasets.load_dataset` finds them.
    base_url : str, optional
        A mirror holding the same files under the same names.
    timeout : float
    verify : bool
        Compare SHA-256 digests (default); False still caps each transfer at the expected size.
    log : callable, optional
        Called with one line of progress per file (e.g. ``print``).

    Returns
    -------
    list of Path
        The data files now in place (for CIFAR-10 the archive and the unpacked batches).
    """
    if name not in REGISTRY:
        raise ValueError(f"name must be one of {', '.join(REGISTRY)}, got {name!r}")
    source, log = REGISTRY[name], log or (lambda line: None)  # (CIFAR-10 unpacks into a folder)
    if verify and any(f.sha256 is None for f in source.files):
        raise ValueError(f"{name}: no SHA-256 is recorded for its files; download with "
                         f"verify=False (--no-verify) only if you trust the source")
    base = _check_url(base_url or source.base_url, "base_url").rstrip("/") + "/"
    paths = []
    for remote in source.files:
        dest = Path(data_dir) / remote.filename
        for stale in dest.parent.glob(f".{dest.name}.*.part"):  # left by a killed transfer
            stale.unlink(missing_ok=True)
        if verify and dest.is_file() and file_sha256(dest) == remote.sha256:
            log(f"{dest}: present, SHA-256 verified")
        else:
            log(f"{dest}: fetching {base + remote.filename}")
            cap = None if remote.size is None else remote.size + SIZE_MARGIN  # even unverified
            digest = fetch_verified(base + remote.filename, dest, remote.sha256 if verify else None,
                                    remote.size if verify else None, timeout, max_bytes=cap)
            log(f"{dest}: {'verified' if verify else 'NOT verified'}, SHA-256 {digest}")
        paths.append(dest)
        if source.extract:
            paths += extract_tar(dest, data_dir)
            log(f"{dest}: unpacked into {data_dir}")
    return paths
