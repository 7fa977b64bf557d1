"""The declarative catalog under definitions/: its schema (models) and its one loader."""

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.loader import CatalogError, load_catalog

__all__ = ["Catalog", "CatalogError", "load_catalog"]
