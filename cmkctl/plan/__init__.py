"""The real program on Pulumi's mock runtime, recorded as a ``pulumi preview --json`` plan, and
plans read back.

Owns the recorder, the fake Azure that answers it, the plan reader and the preview tree.
Imports: ``cmkctl.stacks``, ``components``.
"""
