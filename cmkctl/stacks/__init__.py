"""Stack files read as the Pulumi CLI reads them: YAML v3 values, secrets, stack references.

Imports: the standard library, ``components.config`` (problem reporting). Nothing else of
``cmkctl``.
"""
