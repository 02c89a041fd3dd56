"""Everything that talks to a real tenant through the official Azure SDKs: verify, backup-key.

The only package that needs credentials (explicit ``--auth``). Imports: ``components.config``.
"""
