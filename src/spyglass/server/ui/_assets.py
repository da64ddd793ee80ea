"""The built scripts and styles under ``static/`` (``scripts/build-ui`` writes them).

``manifest.json`` maps each bundle entry (a page's script, ``ui`` for the shared layout's
styles) to its hashed files. Only the files the build wrote are served, from memory, gzipped for
browsers that take it; a hashed name changes with its content, so browsers may keep such a file
for a year without asking again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

STATIC_DIR = Path(__file__).resolve().parent / "static"
# esbuild's [name]-[hash] file names: the hash is 8 characters of A-Z and 0-9.
HASHED_NAME = re.compile(r"^[a-z0-9_-]+-[A-Z0-9]{8}\.(js|css)$")
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Bundle:
    """What one entry needs: its script (if any), the scripts that imports, its styles."""

    js: str | None
    css: tuple[str, ...]
    imports: tuple[str, ...]


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gzipped: bytes
    etag: str
    content_type: str


@dataclass
class Assets:
    """The bundles in ``folder`` and the route handler that serves their files."""

    folder: Path = STATIC_DIR
    bundles: dict[str, Bundle] = field(init=False)
    _cache: dict[str, _Asset] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        manifest = json.loads((self.folder / "manifest.json").read_text())
        self.bundles = {
            name: Bundle(entry["js"], tuple(entry["css"]), tuple(entry["imports"]))
            for name, entry in manifest.items()
        }

    def bundle(self, name: str) -> Bundle:
        """The files of entry ``name``; KeyError names what the build has."""
        try:
            return self.bundles[name]
        except KeyError:
            have = ", ".join(sorted(self.bundles))
            raise KeyError(f"no bundle {name!r} in {self.folder} (built: {have})") from None

    def files(self) -> set[str]:
        """Every file name the manifest lists."""
        return {
            f for b in self.bundles.values() for f in (b.js, *b.css, *b.imports) if f is not None
        }

    def _load(self, name: str) -> _Asset | None:
        if name in self._cache:
            return self._cache[name]
        if name not in self.files() or not HASHED_NAME.match(name):
            return None
        body = (self.folder / name).read_bytes()
        asset = _Asset(
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
            content_type=CONTENT_TYPES[Path(name).suffix],
        )
        self._cache[name] = asset
        return asset

    async def serve(self, request: Request) -> Response:
        """``GET /static/<name>``: a built file with year-long caching, else 404."""
        asset = self._load(request.path_params["name"])
        if asset is None:
            return PlainTextResponse("404 page not found\n", status_code=404)
        headers = {
            "Cache-Control": IMMUTABLE,
            "ETag": asset.etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if asset.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = asset.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.content_type, headers=headers)
