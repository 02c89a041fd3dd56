"""The credential store's self-signed certificate (``cmkctl cert``).

Imports: ``components.config``.
"""
