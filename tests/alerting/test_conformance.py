"""Alertmanager's own config test files (../shared/conformance/alertmanager, see its SOURCES.md):
every valid file loads, every invalid one fails with Alertmanager's message, and the amtool
routing cases route to the same receivers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.required import CONFORMANCE, need_conformance

from spyglass.alerting import RoutingTree, load_alertmanager_config_file
from spyglass.core.errors import ConfigError

WHAT = "Alertmanager's config test files"


@dataclass(frozen=True)
class Case:
    file: str
    expectation: str
    detail: str


def cases() -> list[Case]:
    path = CONFORMANCE / "alertmanager" / "EXPECTED.tsv"
    if not path.exists():
        # Collected without the data: one case that skips (or fails under CI) when run.
        return [Case("EXPECTED.tsv", "missing", "")]
    out = []
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        file, expectation, detail, *_ = line.split("\t")
        out.append(Case(file, expectation, detail.replace("\\n", "\n")))
    return out


def load_case(case: Case) -> Path:
    return need_conformance(f"alertmanager/{case.file}", WHAT)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.file)
def test_alertmanager_config_file(case: Case) -> None:
    path = load_case(case)
    if case.expectation == "load_ok":
        # Read exactly as Alertmanager reads it: no ${VAR} expansion.
        load_alertmanager_config_file(path, expand_env=False)
        return
    assert case.expectation == "load_error", case
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config_file(path, expand_env=False)
    err = info.value
    assert err.file == str(path)
    detail = case.detail
    unmarshal = re.fullmatch(r"yaml: unmarshal errors:\n  line (\d+): (.*)", detail)
    if detail.endswith(" (substring)"):
        assert detail.removesuffix(" (substring)") in err.message
    elif unmarshal:
        # Go reports type errors with their line; Spyglass keeps the line apart.
        assert (err.line, err.message) == (int(unmarshal.group(1)), unmarshal.group(2))
    elif not detail.startswith("("):
        assert err.message == detail


def routing_cases() -> list[tuple[str, dict[str, str], list[str]]]:
    out = []
    for case in cases():
        if not case.detail.startswith("route "):
            continue
        for part in case.detail.removeprefix("route ").split("; "):
            labels, receivers = part.split(" -> ")
            pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            out.append((case.file, pairs, receivers.strip("[]").split(",")))
    return out or [("EXPECTED.tsv", {}, [])]


@pytest.mark.parametrize(("file", "labels", "receivers"), routing_cases())
def test_amtool_routing_cases(file: str, labels: dict[str, str], receivers: list[str]) -> None:
    path = need_conformance(f"alertmanager/{file}", WHAT)
    tree = RoutingTree.of(load_alertmanager_config_file(path, expand_env=False))
    assert tree.receivers(labels) == receivers
