"""Everything that talks to Azure through the official SDKs: verify, backup-key, key.

The only package that needs credentials (explicit ``--auth``). Imports: ``components.config``.
"""
