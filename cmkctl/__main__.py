"""``python -m cmkctl``."""

import sys

from cmkctl.cli import main

sys.exit(main())
