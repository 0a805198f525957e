"""Pure identity logic: no gRPC, database or Kafka imports here."""
