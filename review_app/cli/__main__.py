"""``python -m review_app.cli``: the same as the ``tuneloop`` script."""

import sys

from . import main

sys.exit(main())
