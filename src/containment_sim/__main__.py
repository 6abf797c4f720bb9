"""``python -m containment_sim``: the command line."""

import sys

from containment_sim.cli import main

sys.exit(main())
