"""`python -m bench`: every benchmark and its floor, one command (see bench/README.md)."""

import sys

from bench.run_all import main

sys.exit(main())
