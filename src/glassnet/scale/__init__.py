"""Beyond one NumPy array: the array-API backends (torch, CuPy, JAX) and Dask (sums, fit, files)."""
