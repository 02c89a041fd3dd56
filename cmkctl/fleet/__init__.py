"""Many stacks in one run: selection, the worker pool, shards, summaries and the grouped comment.

Imports: ``cmkctl.plan``, ``cmkctl.check``, ``cmkctl.review``, ``components.config``.
"""
