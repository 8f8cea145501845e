import sys

from envparity.cli import main

sys.exit(main())
