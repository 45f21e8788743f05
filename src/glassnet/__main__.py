"""``python -m glassnet``: the command line."""

import sys

from glassnet.cli import main

sys.exit(main())
