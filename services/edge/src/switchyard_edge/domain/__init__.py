"""Pure request logic: no gRPC, HTTP framework or Kafka imports here."""
