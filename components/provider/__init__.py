"""Provider tenant ComponentResources: the identity chain and the Storage, SQL, disk and
Snowflake bindings.

Imports: ``components.config``, the shared ``components`` modules.
"""
