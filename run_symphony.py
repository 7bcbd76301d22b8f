#!/usr/bin/env python3
"""Symphony's command line (the same as the `symphony` console script).

    python run_symphony.py render symphony -o symphony.mp4
    python run_symphony.py show symphony --fullscreen --monitor 1
    python run_symphony.py list
"""

import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
