"""What the provider modules share: request parameters, content parsing, turn building,
answers and failures, each written once so the dialects cannot drift apart."""
