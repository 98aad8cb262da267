"""`python -m sourcediff`: the sourcediff command (see sourcediff/cli.py)."""
import sys

from .cli import main

sys.exit(main())
