"""Customer tenant ComponentResources: vault, keys, locks, grants (and Snowflake's grant).

Imports: ``components.config``, the shared ``components`` modules (providers, resource group).
"""
