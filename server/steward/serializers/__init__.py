"""Request validation and response shapes of the contract, one module per domain."""
