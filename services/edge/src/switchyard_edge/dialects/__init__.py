"""Ingress dialects other than Chat Completions: each decodes its own JSON into the pipeline's
chat request and encodes the pipeline's answers (and streams) back into its own shapes."""
