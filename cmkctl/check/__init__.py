"""The policy pack run on a plan (real or offline), plus the deletion rules CrossGuard cannot see.

Imports: ``cmkctl.plan``, ``cmkctl.review`` (the destructive classifier), ``policies``.
"""
