"""The grading engine: a trusted judge (pytest) and an untrusted sandbox worker."""
