"""The terminal wing: the ``papersearch`` command (`client` → `cli`), the
warm server (`serve`), the cluster commands (`cluster`) and the only rich
code (`render`). It reaches the engine through the public library only."""
