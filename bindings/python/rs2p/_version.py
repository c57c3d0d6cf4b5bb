"""The package version. The loaded library must have the same major.minor."""

__version__ = "0.1.0"
