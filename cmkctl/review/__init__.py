"""What a change does, for people deciding whether it ships: diff, the destructive classifier,
risks,
the graph, and their text/Markdown/Mermaid renderers (with the replace-on-change data).

Imports: ``cmkctl.plan``, ``cmkctl.check``, ``policies``.
"""
