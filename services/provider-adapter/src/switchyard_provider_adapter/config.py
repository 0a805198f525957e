"""Settings of the provider adapter."""

from __future__ import annotations

from pydantic import SecretStr

from switchyard_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "provider-adapter"
    grpc_port: int = 50052
    # The LiteLLM-style config.yaml; credentials in it (or the environment variables it names
    # with os.environ/NAME) are read here and nowhere else.
    config_path: str = "/etc/switchyard/config.yaml"
    # X25519 private key (base64 of the raw 32 bytes) that opens the credentials of deployments
    # added at runtime (/model/new seals them to its public key). Unset: such deployments fail
    # with an authentication error naming this variable.
    provider_credentials_private_key: SecretStr | None = None
    # What deployments added at runtime may make this adapter use beyond the credentials sealed
    # into them (config.yaml's deployments are the operator's own and not limited). JSON lists.
    # STS endpoints besides AWS's own https://sts[.<region>].amazonaws.com (e.g. a VPC endpoint).
    allowed_aws_sts_endpoints: list[str] = []
    # Web-identity token files besides the EKS one and AWS_WEB_IDENTITY_TOKEN_FILE below.
    allowed_web_identity_token_files: list[str] = []
    # Files a runtime deployment's vertex_credentials may name.
    allowed_credential_files: list[str] = []
    # Buckets whose objects requests may name (s3:// to Bedrock, gs:// to Gemini and Vertex AI):
    # the provider reads them with the deployment's credentials. None unless listed.
    allowed_s3_buckets: list[str] = []
    allowed_gcs_buckets: list[str] = []
    # The projected service-account token of EKS IAM Roles for Service Accounts (EKS sets this
    # variable in the pod); allowed as a web-identity token file.
    aws_web_identity_token_file: str = ""
    # Connection pool per upstream host.
    upstream_max_connections_per_host: int = 512
    upstream_keepalive_seconds: float = 60.0
    upstream_connect_timeout_seconds: float = 5.0
    # Defaults when a deployment sets no timeout / stream_timeout.
    default_timeout_seconds: float = 600.0
    default_stream_timeout_seconds: float = 60.0
    # Gaps between streamed chunks longer than this end the stream with a timeout error.
    stream_idle_timeout_seconds: float = 300.0
