"""Chart checks run once per values set (values.yaml alone and each ci/*.yaml over it) and per
Kubernetes version the chart is validated against."""

from __future__ import annotations

import pytest
from chart import render, schemas


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "value_set" in metafunc.fixturenames:
        metafunc.parametrize("value_set", list(render.value_sets()))
    if "kube_version" in metafunc.fixturenames:
        metafunc.parametrize("kube_version", list(schemas.KUBE_VERSIONS))
