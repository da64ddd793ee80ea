"""A throwaway PostgreSQL (Debian's package) on a loopback port, for the tests that need one.

The SDK's database health check and the control-plane state store both run against a real
server. ``postgres_bindir`` finds the server's binaries: without them (or without psycopg) a test
is skipped, except under CI, where it fails (``tests.support.required``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator

from tests.support.required import missing, need_tool
from tests.support.servers import free_port, stop_process


def postgres_bindir() -> str:
    """The directory of the newest installed PostgreSQL's binaries; skip (fail under CI) when
    PostgreSQL or psycopg is missing."""
    postgres = need_tool(
        "postgres",
        "install Debian's postgresql package (scripts/test does it when run as root)",
        also=("/usr/lib/postgresql/*/bin/postgres",),
    )
    try:
        import psycopg  # noqa: F401, PLC0415 - only the PostgreSQL tests need the driver
    except ImportError:
        missing("the PostgreSQL tests need psycopg (the dev extra installs it)")
    return os.path.dirname(postgres)


class PostgresServer:
    """Debian's PostgreSQL: a throwaway cluster on a free loopback port, trust auth, no fsync.

    PostgreSQL refuses to run as root; as root the cluster belongs to the ``postgres`` user the
    package creates.
    """

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.datadir = tempfile.mkdtemp(prefix="spyglass-pg-")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.process: subprocess.Popen[bytes] | None = None
        try:
            subprocess.run(
                [f"{bindir}/initdb", "-D", self.datadir, "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--no-sync"],
                check=True, capture_output=True, user=self.user,
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(self.datadir, ignore_errors=True)
            raise

    def start(self) -> None:
        import psycopg  # noqa: PLC0415 - only the PostgreSQL tests need the driver

        self.process = subprocess.Popen(
            [f"{self.bindir}/postgres", "-D", self.datadir, "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
             "-c", "fsync=off", "-c", "shared_buffers=16MB"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=self.user,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}")
            try:
                psycopg.connect(
                    host="127.0.0.1", port=self.port, user="postgres", connect_timeout=1
                ).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("postgres did not start")

    def create_database(self, name: str) -> str:
        """Create an empty database ``name``; its ``postgresql://`` URL (libpq form).

        It sorts text like most production databases do, by a linguistic collation (ICU's
        en-US: "b" before "B", "B" after "a"), not by the bytes as the cluster's C locale would,
        so a test notices code that assumes byte order.
        """
        import psycopg  # noqa: PLC0415
        from psycopg import sql  # noqa: PLC0415

        create = "CREATE DATABASE {} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL(create).format(sql.Identifier(name)))
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Fast shutdown (SIGINT): PostgreSQL closes every client connection and exits. SIGTERM
        would wait for the clients, and a connection pool never leaves."""
        if self.process is not None:
            stop_process(self.process, signal.SIGINT, timeout_s=20)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started throwaway PostgreSQL, removed at the end (skipped, or failed in CI, when
    PostgreSQL is not installed)."""
    server = PostgresServer(postgres_bindir())
    try:
        server.start()
        yield server
    finally:
        server.remove()
