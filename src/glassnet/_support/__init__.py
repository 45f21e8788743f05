"""Helpers that import nothing of glassnet: threads, memory budgets, atomic writes, JSON, npz reading, the sandbox, the
C kernels."""
