"""Reading the catalog file of a project: `<repo>/stacks/catalog.yaml`."""

from __future__ import annotations

from pathlib import Path

from envparity.core.errors import EnvparityError
from envparity.core.spec import CATALOG_FILE, Catalog, parse_catalog

__all__ = ["load_catalog"]


def load_catalog(repo: Path) -> Catalog:
    """Read and check the catalog; raises CatalogError listing every mistake."""
    path = repo / CATALOG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnvparityError(
            f"cannot read {CATALOG_FILE}: {exc.strerror}",
            hint="run envparity from the project directory or set ENVPARITY_REPO",
        ) from None
    return parse_catalog(text)
