"""Ingress dialects other than OpenAI's: codecs between a client API's JSON and the pipeline's
protobuf model. A dialect decodes its request into the pipeline's request (and, where a provider
speaks the same API, keeps the client's own body for it) and encodes answers, streams and errors
in its own shape; the pipeline behind it is the one every route uses."""
