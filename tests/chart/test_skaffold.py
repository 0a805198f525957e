"""skaffold.yaml (checked structurally: skaffold's schema is not available offline here). One
artifact per service built from its Dockerfile, the chart deployed with every image templated
into values that exist, profiles dev and prod restating sections instead of index patches."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from chart import policy, render, schemas

from devstack.stack import REPO, SERVICES

SKAFFOLD = yaml.safe_load((REPO / "skaffold.yaml").read_text())
TEMPLATE = re.compile(r"^\{\{\.IMAGE_(REPO|TAG|DIGEST)_([A-Za-z0-9_]+)\}\}$")


def _sections() -> list[tuple[str, dict[str, Any]]]:
    """The top level and each profile, as the config skaffold would run."""
    out = [("default", SKAFFOLD)]
    for profile in SKAFFOLD["profiles"]:
        out.append((profile["name"], {**SKAFFOLD, **{k: v for k, v in profile.items() if k in ("build", "deploy")}}))
    return out


def test_header() -> None:
    assert SKAFFOLD["apiVersion"] == "skaffold/v4beta13"
    assert SKAFFOLD["kind"] == "Config"
    assert [p["name"] for p in SKAFFOLD["profiles"]] == ["dev", "prod"]
    assert all("patches" not in p for p in SKAFFOLD["profiles"]), "profiles restate sections, no index patches"


@pytest.mark.parametrize(("name", "config"), _sections(), ids=[n for n, _ in _sections()])
def test_one_artifact_per_service_and_every_image_reaches_the_chart(name: str, config: dict[str, Any]) -> None:
    artifacts = config["build"]["artifacts"]
    assert sorted(a["image"] for a in artifacts) == sorted(SERVICES)
    for a in artifacts:
        assert a["context"] == "."
        assert a["docker"]["dockerfile"] == f"services/{a['image']}/Dockerfile"
        assert (REPO / a["docker"]["dockerfile"]).exists()
    (release,) = config["deploy"]["helm"]["releases"]
    assert release["chartPath"] == "deploy/helm/switchyard"
    for path in release.get("valuesFiles", []):
        assert (REPO / path).exists(), path
    templates = release["setValueTemplates"]
    # Skaffold replaces '-' in artifact names by '_' in template variables.
    for service in SERVICES:
        var = service.replace("-", "_")
        assert templates[f"services.{service}.image.repository"] == f"{{{{.IMAGE_REPO_{var}}}}}"
        assert templates[f"services.{service}.image.tag"] == f"{{{{.IMAGE_TAG_{var}}}}}"
    for key, value in templates.items():
        m = TEMPLATE.match(value)
        assert m and m.group(2).replace("_", "-") in SERVICES, f"{key}: {value}"
    # The values skaffold sets exist in the chart: render with stand-ins and find the images.
    stand_ins = {k: _stand_in(v) for k, v in templates.items()} | {
        k: str(v) for k, v in (release.get("setValues") or {}).items()
    }
    files = [REPO / p for p in release.get("valuesFiles", [])]
    rendered = render.template(files, set_values=stand_ins, kube_version=schemas.KUBE_VERSIONS[-1])
    images = {
        d["metadata"]["name"].removeprefix("sy-switchyard-"): policy.pod_spec(d)["containers"][0]["image"]
        for d in rendered.of_kind("Deployment")
    }
    digest = "@sha256:" + "0" * 64
    expected = {
        s: f"registry.test/{s}" + (digest if f"services.{s}.image.digest" in templates else ":t-" + s) for s in SERVICES
    }
    assert images == expected


def _stand_in(template: str) -> str:
    m = TEMPLATE.match(template)
    assert m is not None
    kind, var = m.groups()
    service = var.replace("_", "-")
    return {"REPO": f"registry.test/{service}", "TAG": f"t-{service}", "DIGEST": "sha256:" + "0" * 64}[kind]


def test_prod_pins_images_by_digest_and_dev_does_not() -> None:
    profiles = {p["name"]: p for p in SKAFFOLD["profiles"]}
    prod = profiles["prod"]["deploy"]["helm"]["releases"][0]["setValueTemplates"]
    dev = profiles["dev"]["deploy"]["helm"]["releases"][0]["setValueTemplates"]
    assert all(f"services.{s}.image.digest" in prod for s in SERVICES)
    assert not any(k.endswith(".digest") for k in dev), "locally loaded images have no registry digest"
    assert profiles["prod"]["build"]["local"]["push"] is True
    assert profiles["dev"]["build"]["local"]["push"] is False
