"""CrossGuard policy pack ``cmk-prerequisites`` for cross-tenant customer-managed keys.

The pack is built by :func:`policies.pack.build_policies`; ``__main__.py`` only serves it to
the Pulumi CLI, and ``cmkctl check`` runs the same rules on a ``pulumi preview --json`` plan.
"""
