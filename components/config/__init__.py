"""The stack's configuration: read once, validated completely, frozen; per side and per set-up.

Imports: ``policies.key_compatibility`` only (the key-size table the pack also enforces).
"""
