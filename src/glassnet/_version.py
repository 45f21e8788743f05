"""The package version, in the one place the package and its files read it from."""

__version__ = "0.1.0"
