"""Pure translation logic: no gRPC, HTTP client or database imports here."""
