"""Steward's logic, one module per domain. Views parse and serialize; everything that
reads or changes state lives here, so it is testable without HTTP."""
