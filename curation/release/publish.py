"""Publishers (a registry; plugins add more through the entry-point group `medcurate.publishers`): the local
directory (always written), a tar.gz archive, or the Hugging Face Hub.

The Hub token is read from the environment (HF_TOKEN) only, passed to HfApi in memory, and never written to a
file, a run record or a log line. `dry_run` returns the operations that would run, without network.
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.errors import disk_full_as
from curation.registry import Registry
from curation.release.errors import ReleaseError
from curation.release.paths import MARKER

TOKEN_ENV = "HF_TOKEN"
_TOKEN_RE = re.compile(r"^hf_[A-Za-z0-9]{20,}$")
# Old version files must not linger in the repo: the card's data_files globs would mix versions.
_REPLACED = ["data/**", "plots/**", "validation/**"]


_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def archive_path(release_dir: Path) -> Path:
    return release_dir.parent / f"{release_dir.parent.name}-{release_dir.name}.tar.gz"


def publish_tar(release_dir: Path) -> Path:
    """<name>/<name>-<version>.tar.gz beside the version directory; manifest.json is inside the archive."""
    archive = archive_path(release_dir)
    tmp = archive.with_name(f".{archive.name}.tmp")
    with disk_full_as("release archive", archive, undo=lambda: tmp.unlink(missing_ok=True)):
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(release_dir, arcname=f"{release_dir.parent.name}-{release_dir.name}")
        os.replace(tmp, archive)
    return archive


def hf_token() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ReleaseError(
            f"publishing to the Hugging Face Hub needs a token in the {TOKEN_ENV} environment "
            "variable (it is never read from files or written anywhere)"
        )
    if not _TOKEN_RE.match(token):
        raise ReleaseError(
            f"{TOKEN_ENV} is not a valid Hugging Face token (expected hf_ followed by letters and digits)"
        )
    return token


def check_repo(repo_id: str | None) -> str:
    if not repo_id:
        raise ReleaseError("release.hf_repo (owner/name) is required to publish to the Hugging Face Hub")
    if not _REPO_RE.match(repo_id) or ".." in repo_id:
        raise ReleaseError(f"release.hf_repo must look like owner/name, got {repo_id!r}")
    return repo_id


def hf_operations(
    release_dir: Path, repo_id: str, version: str, private: bool, folder: Path | None = None
) -> list[str]:
    """The Hub calls for the files in `release_dir`, shown as uploaded from `folder` (default: release_dir)."""
    files = sorted(
        p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file() and p.name != MARKER
    )
    return [
        f"create_repo(repo_id={repo_id!r}, repo_type='dataset', private={private}, exist_ok=True)",
        f"upload_folder(repo_id={repo_id!r}, repo_type='dataset', folder_path={str(folder or release_dir)!r}, "
        f"delete_patterns={_REPLACED}, commit_message='release {version}')  # {len(files)} files",
        *(f"  upload {f}" for f in files),
        f"create_tag(repo_id={repo_id!r}, repo_type='dataset', tag='v{version}')",
    ]


def publish_hf(release_dir: Path, repo_id: str | None, version: str, private: bool) -> dict[str, Any]:
    """Upload the release folder as one commit and tag it v<version>."""
    repo_id = check_repo(repo_id)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=hf_token())
    try:
        api.whoami()
    except HfHubHTTPError as e:
        raise ReleaseError(f"the Hub rejected {TOKEN_ENV} ({e.response.status_code if e.response else e})") from None
    except Exception as e:  # offline mode, DNS, TLS: say so instead of a traceback
        raise ReleaseError(f"could not reach the Hugging Face Hub to check {TOKEN_ENV}: {type(e).__name__}") from None
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        repo_type="dataset",
        folder_path=release_dir,
        delete_patterns=_REPLACED,
        commit_message=f"release {version}",
    )
    api.create_tag(repo_id, repo_type="dataset", tag=f"v{version}", exist_ok=True)
    return {"hub": f"https://huggingface.co/datasets/{repo_id}"}


@dataclass(frozen=True)
class Publisher:
    """A publish target. `check(cfg, dry_run)` runs before any work (a missing token fails first);
    `operations(staged, final, cfg, version)` lists what publishing does, from the built files; `publish(final,
    cfg, version)` does it after the release is in place (never in a dry run) and returns what to report."""

    name: str
    publish: Callable[[Path, Any, str], dict[str, Any]]
    operations: Callable[[Path, Path, Any, str], list[str]] = lambda staged, final, cfg, version: []
    check: Callable[[Any, bool], None] = lambda cfg, dry_run: None
    remote: bool = False  # its operations are reported after a real publish too (what was sent where)


PUBLISHERS: Registry[Publisher] = Registry("publishers", scan=("curation.release.publish",))


def _check_hf(cfg: Any, dry_run: bool) -> None:
    check_repo(cfg.hf_repo)
    if not dry_run:
        hf_token()


PUBLISHERS.register(Publisher("local", lambda final, cfg, version: {}))
PUBLISHERS.register(
    Publisher(
        "tar",
        lambda final, cfg, version: {"archive": str(publish_tar(final))},
        lambda staged, final, cfg, version: [f"write {archive_path(final)}"],
    )
)
PUBLISHERS.register(
    Publisher(
        "hf",
        lambda final, cfg, version: publish_hf(final, cfg.hf_repo, version, cfg.hf_private),
        lambda staged, final, cfg, version: hf_operations(staged, cfg.hf_repo, version, cfg.hf_private, folder=final),
        _check_hf,
        remote=True,
    )
)
