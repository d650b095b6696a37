"""Backing up a live database: SQLite's online backup API, or pg_dump for PostgreSQL."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

PG_DUMP = "pg_dump"


class BackupError(Exception):
    """The backup could not be made (the reason is one line for the operator)."""


def backup_sqlite(database: Path, output: Path, *, busy_timeout_ms: int) -> None:
    """Copy a SQLite database that may be in use to `output`, consistent as of one moment.

    One backup step copies every page inside a single read transaction: in WAL mode writers
    carry on meanwhile, and the copy never mixes pages from before and after a commit.
    """
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    partial = output.with_name(f".{output.name}.partial")
    try:
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True)
        with closing(source), closing(sqlite3.connect(partial)) as copy:
            source.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            source.backup(copy)
            # A self-contained file: no -wal beside it to forget when it is copied.
            copy.execute("PRAGMA journal_mode=DELETE")
            problems = copy.execute("PRAGMA quick_check").fetchall()
        if problems != [("ok",)]:
            raise BackupError(f"the copy failed its integrity check: {problems[:3]}")
        partial.replace(output)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite refused the backup: {error}") from None
    finally:
        partial.unlink(missing_ok=True)


def pg_dump_command(url: str, output: Path) -> tuple[list[str], dict[str, str]]:
    """The pg_dump command line (custom format, for pg_restore) and the environment it needs.

    The password travels in PGPASSWORD, not on the command line where `ps` would show it.
    """
    parsed = make_url(url)
    query = dict(parsed.query)
    if "ssl" in query:  # asyncpg's spelling of libpq's sslmode
        query["sslmode"] = query.pop("ssl")
    # URL.set() cannot unset a password, so the libpq URL is built afresh.
    libpq = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=query,
    )
    environment = {} if parsed.password is None else {"PGPASSWORD": str(parsed.password)}
    dsn = libpq.render_as_string(hide_password=False)
    return [PG_DUMP, "--format=custom", f"--file={output}", f"--dbname={dsn}"], environment


def run_pg_dump(url: str, output: Path) -> None:
    """Dump the PostgreSQL database at `url` to `output` with the pg_dump on PATH."""
    command, environment = pg_dump_command(url, output)
    if shutil.which(PG_DUMP) is None:
        password = " with the password in PGPASSWORD" if environment else ""
        raise BackupError(
            f"pg_dump is not on PATH: install the PostgreSQL client (the server's version or "
            f"newer) and run{password}: {shlex.join(command)}"
        )
    result = subprocess.run(
        command, env=os.environ | environment, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_dump failed: {reason}")
