"""The soak and fault harness: the service under load while its machines fail, then reconciled.

    python -m soak.run [--short] [--database postgresql|sqlite] [--negative-control] [--keep]

See RELIABILITY.md for what it does, the faults it injects and what reconciliation checks.
"""
