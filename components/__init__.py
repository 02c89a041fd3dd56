"""The Pulumi program's ComponentResources; ``program`` is the composition root.

Imports: ``components.config`` (and through it ``policies.key_compatibility``); never ``cmkctl``.
"""
