"""Load for the state store's crash test: writes forever, printing what was acknowledged.

Run as ``python state_crash_writer.py STATE_URL DATA_DIR``. Three threads each loop: put document
``w<t>-<i>`` of kind ``crash`` with value ``{"i": i}``, append ``{"w": t, "i": i}`` to journal
``crash``, then print ``<t> <i> <version> <entry id>``, only after both calls returned.
"""

from __future__ import annotations

import itertools
import sys
import threading
from pathlib import Path

from spyglass.storage.state import SqlStateStore, open_state_store

WRITERS = 3
_print_lock = threading.Lock()


def write(store: SqlStateStore, t: int) -> None:
    for i in itertools.count():
        doc = store.put("crash", f"w{t}-{i}", {"i": i})
        entry = store.append("crash", {"w": t, "i": i})
        with _print_lock:
            print(t, i, doc.version, entry, flush=True)


def main(state_url: str, data_dir: Path) -> None:
    store = open_state_store(state_url, data_dir)
    print("ready", flush=True)
    threads = [threading.Thread(target=write, args=(store, t), daemon=True) for t in range(WRITERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
