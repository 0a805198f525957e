"""Pure routing logic: no gRPC, Redis or database imports here."""
