"""The fast path: row chunks through preallocated buffers, tested equal to the lecture."""
