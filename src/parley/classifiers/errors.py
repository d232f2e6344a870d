"""Errors of the classifiers package.

::

    ClassifierError            base; never carries comment text
     ├── DataError             a data file is missing or malformed
     ├── ArtifactError         a model artifact is missing, corrupt or of an unknown format
     └── ModelNotFound         no artifact for a task in any search location
"""

from __future__ import annotations


class ClassifierError(Exception):
    """Base of the classifier errors. Messages name files and fields, never comment bodies."""


class DataError(ClassifierError):
    """A labelled data file is missing or does not have the documented format."""


class ArtifactError(ClassifierError):
    """A model artifact cannot be read: missing file, bad header, unknown format version."""


class ModelNotFound(ArtifactError):
    """No model for the task in the user's model directory nor among the shipped artifacts."""
