"""The attention registries: each score, window, normalizer and family registers itself where it is defined.

    from attn_research.attention.registry import SCORES

    @SCORES.register("dot", equation="e = h_t^T h_s", source="Luong et al. 2015, eq. 8")
    class DotScore(nn.Module): ...

build_attention and attention_config (config.py), the README catalogue (catalogue.py) and the tests read
these registries; the package's __init__ imports every module, so every registration has run before any
of them is read. A leaf module: it imports nothing from the attention package, so every module may import it.

  SCORES       e = score(query, keys): Flax module classes; their fields (dim, max_len, ...) are filled from the
               factored attention's fields of the same name.
  WINDOWS      which keys a query may attend to: Flax module classes, filled the same way.
  NORMALIZERS  weights = normalize(scores, allowed, ...): functions; keyword arguments after `allowed`
               (softmax's temperature) are filled the same way.
  FAMILIES     whole attention modules: classes with a classmethod from_config(config) (settings.py).
"""

from __future__ import annotations

from attn_research.registry import Registry

SCORES = Registry("attention score")
WINDOWS = Registry("attention window")
NORMALIZERS = Registry("attention normalizer")
FAMILIES = Registry("attention family")
