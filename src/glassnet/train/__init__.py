"""Training: the one fit (full batch, mini-batch, partial_fit's epoch), its set-up, solvers and update rules, history,
held-out data."""
