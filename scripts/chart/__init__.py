"""Offline checks of the Helm chart in deploy/helm/switchyard (``make chart-check``).

- ``render``: ``helm lint`` / ``helm template`` through the helm that ``scripts/tools.sh`` builds.
- ``schemas``: every rendered object against the Kubernetes OpenAPI schemas of two minor
  versions (from the ``kubernetes-validate`` package) and the CRDs' own schemas.
- ``policy``: the security and consistency rules a reviewer would otherwise check by eye.
- ``localenv``: a workload's rendered environment turned into a local process environment, for
  the boot test that starts the stack with exactly what the chart sets.
"""
