"""One module per rule: ``META`` describes it, ``build()`` returns the CrossGuard policy."""
