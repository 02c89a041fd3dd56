"""``cmkctl``: offline previews, policy checks, reviews and live checks for dedicated-cmk.

``cli`` lists the commands; each sub-package owns one thing a user does. Dependencies point one
way: ``cmkctl`` imports ``components`` and ``policies``, never the reverse.
"""
