"""TFDS builders for the data sets read from files (array_record, no TensorFlow needed).

They are defined with `skip_registration=True`: TFDS ships its own (TensorFlow-based) `scan` and
`fashion_mnist` builders, and registering ours under the same names would replace them in
`tfds.builder(...)`. Instantiate the classes directly, as `attn_research.data.tfds_io` does.
Each domain builder's module also has a numpy loader (`load_fashion_mnist`, `load_fsdd`, `load_sick`,
`load_ett`).
"""

from attn_research.data.builders.ett import Ett
from attn_research.data.builders.fashion_mnist import FashionMnist
from attn_research.data.builders.fsdd import Fsdd
from attn_research.data.builders.multi30k import Multi30k
from attn_research.data.builders.scan import Scan
from attn_research.data.builders.sick import Sick

__all__ = ["Ett", "FashionMnist", "Fsdd", "Multi30k", "Scan", "Sick"]
