"""The declarative catalog under definitions/: its schema (models) and its one loader."""

from pipelines.catalog.loader import CatalogError, load_catalog
from pipelines.catalog.catalog import Catalog

__all__ = ["Catalog", "CatalogError", "load_catalog"]
