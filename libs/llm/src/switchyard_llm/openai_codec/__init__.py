"""OpenAI's JSON ⇄ Switchyard's protobuf, one module per noun: ``chat``, ``messages``, ``usage``,
``embeddings``, ``images``; ``options`` (the gateway's controls in a body), ``checks`` (the same
checks for protobuf requests) and ``fields`` (typed getters) serve them."""
