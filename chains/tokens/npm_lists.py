"""The third-party token lists this service ships, as npm packages pinned in package-lock.json.

Each names the package, the file inside it that holds a Uniswap token list
(https://tokenlists.org), and how to read it: `json` is the list itself; `sourcemap` is a
compiled module's source map whose first `sourcesContent` is the original list JSON
(`@eth-optimism/tokenlist` publishes no .json file). Lists are merged per chain in this order:
the first to list a token names it.

Standard library only, importing nothing from this project: the build step imports it to
vendor the files into the wheel (`chains/tokens/vendor/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

VENDOR_DIR = "vendor"  # inside the `chains.tokens` package


@dataclass(frozen=True)
class ListPackage:
    package: str
    path: str
    layout: Literal["json", "sourcemap"]
    license: str
    license_file: str | None = "LICENSE"

    @property
    def vendored_name(self) -> str:
        """The file's name in the vendor directory."""
        return self.package.strip("@").replace("/", "__") + (
            ".json" if self.layout == "json" else ".js.map"
        )


SHIPPED_LISTS = (
    ListPackage(
        "@uniswap/default-token-list",
        "build/uniswap-default.tokenlist.json",
        "json",
        "GPL-3.0-or-later",
    ),
    ListPackage(
        "@eth-optimism/tokenlist",
        "dist/optimism.tokenlist.js.map",
        "sourcemap",
        "MIT",
        license_file=None,  # the package ships none; its package.json says MIT
    ),
    ListPackage(
        "@sushiswap/default-token-list",
        "build/sushiswap-default.tokenlist.json",
        "json",
        "GPL-3.0-or-later",
    ),
    ListPackage(
        "quickswap-default-token-list",
        "build/quickswap-default.tokenlist.json",
        "json",
        "GPL-3.0-or-later",
    ),
)


def vendored_files() -> dict[str, tuple[str, str]]:
    """Each file the wheel carries, by its name in the vendor directory: (package, path).
    Every list comes with its package's `package.json` (version, license) and, where the
    package has one, its LICENSE text."""
    files: dict[str, tuple[str, str]] = {}
    for shipped in SHIPPED_LISTS:
        slug = shipped.vendored_name.split(".", 1)[0]
        files[shipped.vendored_name] = (shipped.package, shipped.path)
        files[f"{slug}.package.json"] = (shipped.package, "package.json")
        if shipped.license_file:
            files[f"{slug}.LICENSE"] = (shipped.package, shipped.license_file)
    return files
