"""What the adapter's own identity and files may be used for by deployments it did not read
from its config.yaml (those added at runtime with ``/model/new``, or sent by any caller), and
which storage objects a request may make a provider read with the deployment's credentials.

Deployments of the adapter's config.yaml are the operator's own and are not limited here; the
adapter calls them as its copy of the file defines them. Any other deployment may only:
- send a web-identity token (EKS IRSA) to AWS's own STS endpoints or ones the operator lists,
- read the token files and credential files the operator lists (the EKS token by default),
and no deployment resolves ``os.environ/`` except config.yaml's. Requests may name ``s3://`` /
``gs://`` objects only in the buckets the operator lists: Bedrock and Vertex read them with the
deployment's credentials, which would otherwise open every bucket those credentials can read."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_llm.model_config import is_env_reference
from switchyard_provider_adapter.domain.errors import ProviderFailure

# Where EKS projects the service-account token for IAM Roles for Service Accounts
# (https://docs.aws.amazon.com/eks/latest/userguide/pod-configuration.html).
EKS_WEB_IDENTITY_TOKEN_FILE = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"

# AWS's global and regional STS endpoints, FIPS and China partitions included
# (https://docs.aws.amazon.com/general/latest/gr/sts.html). The whole URL is matched, so no
# userinfo, port, path or query can make it name another host.
_AWS_STS = re.compile(
    r"https://sts(?:-fips)?(?:\.[a-z]{2}(?:-[a-z]+)+-\d{1,2})?\.amazonaws\.com(?:\.cn)?(?::443)?/?",
)


def _bad(message: str, param: str) -> ProviderFailure:
    return ProviderFailure(make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, message, param=param))


def _paths(paths: Iterable[str]) -> frozenset[str]:
    return frozenset(p for p in paths if p)


@dataclass(frozen=True, slots=True)
class Allowlists:
    # STS endpoints beyond AWS's own (e.g. a VPC endpoint), as full URLs.
    aws_sts_endpoints: frozenset[str] = frozenset()
    web_identity_token_files: frozenset[str] = frozenset({EKS_WEB_IDENTITY_TOKEN_FILE})
    # Files a runtime deployment's vertex_credentials may name.
    credential_files: frozenset[str] = frozenset()
    s3_buckets: frozenset[str] = frozenset()
    gcs_buckets: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        aws_sts_endpoints: Iterable[str] = (),
        web_identity_token_files: Iterable[str] = (),
        credential_files: Iterable[str] = (),
        s3_buckets: Iterable[str] = (),
        gcs_buckets: Iterable[str] = (),
    ) -> Allowlists:
        """The lists as configured; the EKS token file is always allowed."""
        return cls(
            aws_sts_endpoints=frozenset(e.rstrip("/") for e in aws_sts_endpoints if e),
            web_identity_token_files=_paths([EKS_WEB_IDENTITY_TOKEN_FILE, *web_identity_token_files]),
            credential_files=_paths(credential_files),
            s3_buckets=frozenset(b for b in s3_buckets if b),
            gcs_buckets=frozenset(b for b in gcs_buckets if b),
        )

    # --- deployments not from config.yaml -------------------------------------------------
    def sts_endpoint_allowed(self, url: str) -> bool:
        return bool(_AWS_STS.fullmatch(url)) or url.rstrip("/") in self.aws_sts_endpoints

    @staticmethod
    def _file_allowed(path: str, allowed: frozenset[str]) -> bool:
        # Only the exact, normalised path: no "..", no relative paths, nothing a symlink could
        # redirect that the operator did not name.
        return path.startswith("/") and posixpath.normpath(path) == path and path in allowed

    def check_runtime(self, api_base: str, params: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        """Refuse (400 naming the field) what a deployment not from config.yaml may not use."""
        if is_env_reference(api_base):
            raise _bad(_ENV_REFUSED.format(field="api_base"), "api_base")
        for key, value in params.items():
            if is_env_reference(value):
                raise _bad(_ENV_REFUSED.format(field=key), key)
        for key, value in credentials.items():
            if is_env_reference(value):
                raise _bad(_ENV_REFUSED.format(field=key), key)
        sts = params.get("aws_sts_endpoint")
        if sts and not self.sts_endpoint_allowed(str(sts)):
            raise _bad(
                "aws_sts_endpoint: deployments added at runtime may use AWS's STS endpoints "
                "(https://sts.<region>.amazonaws.com) or those in the provider adapter's ALLOWED_AWS_STS_ENDPOINTS",
                "aws_sts_endpoint",
            )
        token_file = params.get("aws_web_identity_token_file")
        if token_file and not self._file_allowed(str(token_file), self.web_identity_token_files):
            raise _bad(
                "aws_web_identity_token_file: deployments added at runtime may name only the token files in "
                "the provider adapter's ALLOWED_WEB_IDENTITY_TOKEN_FILES (and the EKS service-account token)",
                "aws_web_identity_token_file",
            )
        vertex = credentials.get("vertex_credentials")
        if vertex and not vertex.lstrip().startswith("{") and not self._file_allowed(vertex, self.credential_files):
            raise _bad(
                "vertex_credentials: deployments added at runtime may name only the files in the provider "
                "adapter's ALLOWED_CREDENTIAL_FILES; send the credential JSON itself",
                "vertex_credentials",
            )

    # --- request content --------------------------------------------------------------------
    def check_object(self, uri: str, where: str, provider: str) -> None:
        """Refuse an ``s3://`` / ``gs://`` object outside the configured buckets (other URIs
        pass: the provider fetches them, if at all, without the deployment's credentials)."""
        scheme, sep, rest = uri.partition("://")
        allowed = {"s3": self.s3_buckets, "gs": self.gcs_buckets}.get(scheme.lower()) if sep else None
        if allowed is None:
            return
        bucket = rest.partition("/")[0]
        if bucket not in allowed:
            setting = "ALLOWED_S3_BUCKETS" if scheme.lower() == "s3" else "ALLOWED_GCS_BUCKETS"
            raise ProviderFailure(
                make_error(
                    ErrorKind.ERROR_KIND_BAD_REQUEST,
                    f"{provider}: {where}: {scheme.lower()}://{bucket} is not a bucket this gateway lets requests read "
                    f"(the provider adapter's {setting})",
                    param="messages",
                    provider=provider,
                )
            )

    def check_objects(self, block: Any, where: str, provider: str) -> None:
        """``check_object`` for every ``s3Location.uri`` / ``fileData.fileUri`` inside a block a
        client wrote in the provider's own shape."""
        if isinstance(block, Mapping):
            for key, value in block.items():
                if key in ("uri", "fileUri") and isinstance(value, str):
                    self.check_object(value, where, provider)
                else:
                    self.check_objects(value, where, provider)
        elif isinstance(block, list):
            for item in block:
                self.check_objects(item, where, provider)


_ENV_REFUSED = "{field}: os.environ/ references are resolved only for deployments in the provider adapter's config.yaml"

# No allowances beyond the defaults (tests and modules built without settings).
DEFAULT_ALLOWLISTS = Allowlists()
