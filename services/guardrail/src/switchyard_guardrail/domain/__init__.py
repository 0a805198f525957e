"""Pure detection logic: no gRPC imports here."""
