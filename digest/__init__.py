"""IP Digest: the week's intellectual-property protection news as one clean email."""

__version__ = "0.1.0"
