"""Host metrics with node_exporter's names, as a prometheus_client Collector over psutil.

    from spyglass.sdk.system import SystemCollector
    registry.register(SystemCollector())

or standalone: ``python -m spyglass.sdk.system --port 9100`` serves them on ``/metrics``.
Each source (CPU, memory, filesystems, disks, network, load) is read independently: one that
fails on this platform is left out of the scrape instead of failing it.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_log = logging.getLogger("spyglass.sdk.system")

# Pseudo and virtual filesystems node_exporter leaves out by default.
IGNORED_FSTYPES = frozenset(
    ("autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
     "devtmpfs", "fusectl", "hugetlbfs", "iso9660", "mqueue", "nsfs", "overlay", "proc",
     "procfs", "pstore", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs",
     "tracefs")
)  # fmt: skip
_CPU_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


class SystemCollector(Collector):
    """Collects CPU, memory, swap, filesystem, disk I/O, network I/O and load metrics."""

    def __init__(self, ignored_fstypes: Iterable[str] = IGNORED_FSTYPES) -> None:
        import psutil  # noqa: PLC0415 - optional dependency, needed only when used

        self._psutil = psutil
        self.ignored_fstypes = frozenset(ignored_fstypes)

    def collect(self) -> Iterator[Metric]:
        """One scrape's metrics."""
        sources: tuple[Callable[[], Iterable[Metric]], ...] = (
            self._cpu,
            self._memory,
            self._filesystems,
            self._disks,
            self._network,
            self._load,
            self._boot_time,
        )
        for source in sources:
            try:
                metrics = list(source())
            except Exception:  # noqa: BLE001 - a missing source must not fail the scrape
                _log.debug("host metrics source %s failed", source.__name__, exc_info=True)
                continue
            yield from metrics

    def _cpu(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
            labels=("cpu", "mode"),
        )
        for cpu, times in enumerate(self._psutil.cpu_times(percpu=True)):
            for mode in _CPU_MODES:
                value = getattr(times, mode, None)
                if value is not None:
                    family.add_metric((str(cpu), mode), float(value))
        yield family

    def _memory(self) -> Iterator[Metric]:
        vm = self._psutil.virtual_memory()
        fields = {
            "MemTotal": vm.total,
            "MemAvailable": vm.available,
            "MemFree": vm.free,
            "Buffers": getattr(vm, "buffers", None),
            "Cached": getattr(vm, "cached", None),
        }
        sm = self._psutil.swap_memory()
        fields["SwapTotal"] = sm.total
        fields["SwapFree"] = sm.free
        for name, value in fields.items():
            if value is not None:
                yield GaugeMetricFamily(
                    f"node_memory_{name}_bytes",
                    f"Memory information field {name}_bytes.",
                    value=float(value),
                )

    def _filesystems(self) -> Iterator[Metric]:
        labels = ("device", "fstype", "mountpoint")
        families = {
            "size": GaugeMetricFamily(
                "node_filesystem_size_bytes", "Filesystem size in bytes.", labels=labels
            ),
            "free": GaugeMetricFamily(
                "node_filesystem_free_bytes", "Filesystem free space in bytes.", labels=labels
            ),
            "avail": GaugeMetricFamily(
                "node_filesystem_avail_bytes",
                "Filesystem space available to non-root users in bytes.",
                labels=labels,
            ),
            "files": GaugeMetricFamily(
                "node_filesystem_files", "Filesystem total file nodes.", labels=labels
            ),
            "files_free": GaugeMetricFamily(
                "node_filesystem_files_free", "Filesystem total free file nodes.", labels=labels
            ),
        }
        seen: set[str] = set()
        for part in self._psutil.disk_partitions(all=False):
            if part.fstype in self.ignored_fstypes or part.mountpoint in seen:
                continue
            seen.add(part.mountpoint)
            try:
                st = os.statvfs(part.mountpoint)
            except OSError:
                continue
            key = (part.device, part.fstype, part.mountpoint)
            families["size"].add_metric(key, float(st.f_blocks * st.f_frsize))
            families["free"].add_metric(key, float(st.f_bfree * st.f_frsize))
            families["avail"].add_metric(key, float(st.f_bavail * st.f_frsize))
            families["files"].add_metric(key, float(st.f_files))
            families["files_free"].add_metric(key, float(st.f_ffree))
        yield from families.values()

    def _disks(self) -> Iterator[Metric]:
        counters = self._psutil.disk_io_counters(perdisk=True) or {}
        spec = (
            ("node_disk_read_bytes_total", "The total number of bytes read.", "read_bytes", 1),
            ("node_disk_written_bytes_total", "The total number of bytes written.",
             "write_bytes", 1),
            ("node_disk_reads_completed_total", "The total number of reads completed.",
             "read_count", 1),
            ("node_disk_writes_completed_total", "The total number of writes completed.",
             "write_count", 1),
            ("node_disk_read_time_seconds_total", "The total number of seconds spent reading.",
             "read_time", 1000),
            ("node_disk_write_time_seconds_total", "The total number of seconds spent writing.",
             "write_time", 1000),
        )  # fmt: skip
        for name, doc, attr, divisor in spec:
            family = CounterMetricFamily(name, doc, labels=("device",))
            for device, c in counters.items():
                family.add_metric((device,), float(getattr(c, attr)) / divisor)
            yield family

    def _network(self) -> Iterator[Metric]:
        counters = self._psutil.net_io_counters(pernic=True) or {}
        spec = (
            ("receive_bytes", "bytes_recv"),
            ("transmit_bytes", "bytes_sent"),
            ("receive_packets", "packets_recv"),
            ("transmit_packets", "packets_sent"),
            ("receive_errs", "errin"),
            ("transmit_errs", "errout"),
            ("receive_drop", "dropin"),
            ("transmit_drop", "dropout"),
        )
        for suffix, attr in spec:
            family = CounterMetricFamily(
                f"node_network_{suffix}_total",
                f"Network device statistic {suffix}.",
                labels=("device",),
            )
            for device, c in counters.items():
                family.add_metric((device,), float(getattr(c, attr)))
            yield family

    def _load(self) -> Iterator[Metric]:
        one, five, fifteen = os.getloadavg()
        yield GaugeMetricFamily("node_load1", "1m load average.", value=one)
        yield GaugeMetricFamily("node_load5", "5m load average.", value=five)
        yield GaugeMetricFamily("node_load15", "15m load average.", value=fifteen)

    def _boot_time(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "node_boot_time_seconds",
            "Node boot time, in unixtime.",
            value=float(self._psutil.boot_time()),
        )


def register_system_metrics(registry: CollectorRegistry) -> SystemCollector:
    """Register a ``SystemCollector`` in ``registry`` and return it."""
    collector = SystemCollector()
    registry.register(collector)
    return collector


def main(argv: list[str] | None = None) -> None:
    """Serve host metrics on ``--address:--port`` until interrupted."""
    parser = argparse.ArgumentParser(description="Serve host metrics (node_exporter names).")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args(argv)
    registry = CollectorRegistry()
    register_system_metrics(registry)
    start_http_server(args.port, addr=args.address, registry=registry)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

__all__ = ["IGNORED_FSTYPES", "SystemCollector", "main", "register_system_metrics"]
