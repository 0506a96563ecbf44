"""Where the store lives, from `database.path` (or --db / EARFUL_DB):

- a file path (the default, `./earful.duckdb`): one DuckDB file on this machine;
- `md:NAME` (or `motherduck:NAME`): a MotherDuck database. The same SQL runs there (it is
  DuckDB, constraints and `ON CONFLICT` included); the token comes from the environment
  (`motherduck_token` or `MOTHERDUCK_TOKEN`), never from the path;
- `ducklake:CATALOG` (e.g. `ducklake:lake.ducklake`, `ducklake:postgres:dbname=earful
  host=db`): a DuckLake, attached read-only. DuckLake has no PRIMARY KEY or UNIQUE
  constraints, which earful's idempotent writes (`ON CONFLICT`) need, so a lake is for
  reading a published copy (reports, analysts), not for the flows to write to.

`plan()` is pure (what would be opened and run), so the dispatch is tested without network;
`connect()` carries it out."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

import duckdb

__all__ = ["LAKE_ALIAS", "MOTHERDUCK_TOKEN_VARS", "ConnectPlan", "DatabaseTarget"]

Kind = Literal["file", "motherduck", "ducklake"]

# DuckDB's MotherDuck extension reads its token from either variable.
MOTHERDUCK_TOKEN_VARS = ("motherduck_token", "MOTHERDUCK_TOKEN")
# The name a DuckLake is attached under; `USE` makes the SQL's bare table names resolve.
LAKE_ALIAS = "earful"
_PREFIXES: dict[str, Kind] = {"md:": "motherduck", "motherduck:": "motherduck",
                              "ducklake:": "ducklake"}


@dataclass(frozen=True, slots=True)
class ConnectPlan:
    database: str          # what duckdb.connect() opens
    read_only: bool
    statements: tuple[str, ...] = ()  # run right after opening


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    kind: Kind
    text: str  # as configured

    @classmethod
    def parse(cls, value: str) -> DatabaseTarget:
        text = str(value).strip()
        lowered = text.lower()
        for prefix, kind in _PREFIXES.items():
            if lowered.startswith(prefix):
                if kind == "motherduck" and re.search(r"token", text, re.IGNORECASE):
                    # A token in the config would end up in logs and error messages.
                    raise ValueError("database.path: put the MotherDuck token in the "
                                     "motherduck_token environment variable, not in the path")
                if kind == "ducklake" and not text[len(prefix):].strip():
                    raise ValueError("database.path: 'ducklake:' needs its catalog, e.g. "
                                     "'ducklake:lake.ducklake'")
                return cls(kind, text)
        return cls("file", text)

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    @property
    def writable(self) -> bool:
        """False for a DuckLake: earful's schema and upserts need PRIMARY KEY constraints."""
        return self.kind != "ducklake"

    def plan(self, read_only: bool) -> ConnectPlan:
        if self.kind == "file":
            return ConnectPlan(self.text, read_only)
        if self.kind == "motherduck":
            # MotherDuck has no file lock to share; access is the token's (a read-scaling
            # token gives read-only access), so the local read_only flag is not passed.
            return ConnectPlan(self.text, False)
        attach = self.text.replace("'", "''")
        return ConnectPlan(":memory:", False, (
            f"ATTACH '{attach}' AS {LAKE_ALIAS} (READ_ONLY)",
            f"USE {LAKE_ALIAS}",
        ))

    def connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if self.kind == "motherduck" and not any(os.environ.get(v)
                                                 for v in MOTHERDUCK_TOKEN_VARS):
            # Without a token DuckDB waits for a browser sign-in: a scheduled flow would hang.
            raise RuntimeError(f"store: {self.text} needs a MotherDuck token in the "
                               "motherduck_token environment variable")
        plan = self.plan(read_only)
        con = duckdb.connect(plan.database, read_only=plan.read_only)
        try:
            for statement in plan.statements:
                con.execute(statement)
        except BaseException:
            con.close()
            raise
        return con
