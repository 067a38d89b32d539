"""TFDS builders for the data sets read from files (array_record, no TensorFlow needed).

They are defined with `skip_registration=True`: TFDS ships its own (TensorFlow-based) `scan`
builder, and registering ours under the same name would replace it in `tfds.builder("scan")`.
Instantiate the classes directly, as `attn_research.data.tfds_io` does.
"""

from attn_research.data.builders.multi30k import Multi30k
from attn_research.data.builders.scan import Scan

__all__ = ["Multi30k", "Scan"]
