"""The other Key Vault set-ups: the credential store and the organisation-level key.

Imports: ``components.config``, ``components.customer`` (vault building blocks), the shared modules.
"""
