"""The SQLite backend: one file, one writer connection with group commit, one reader."""

from storage.sqlite.db import Database, SchemaTooNewError

__all__ = ["Database", "SchemaTooNewError"]
