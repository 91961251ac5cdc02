"""``python -m calltrack`` runs the command line."""

import sys

from calltrack.cli import main

sys.exit(main())
