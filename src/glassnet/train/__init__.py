"""Training: the one fit (full batch, mini-batch, partial_fit's epoch), solvers and update rules, history, held-out
data."""
