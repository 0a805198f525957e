"""Pure money logic: no gRPC, Redis, database or Kafka imports here."""
