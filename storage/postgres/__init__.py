"""The PostgreSQL backend: pooled psycopg connections used from worker threads."""

from storage.postgres.db import Database, PgRow, translate
from storage.sql import SchemaTooNewError

__all__ = ["Database", "PgRow", "SchemaTooNewError", "translate"]
