"""Local development stack helpers for Switchyard.

``devstack.infra`` installs and runs real PostgreSQL, Redis and Apache Kafka
(KRaft, single node) on 127.0.0.1 without docker.  See ``infra.py`` for the API
and ``python scripts/devstack/infra.py --help`` for the CLI.
"""
