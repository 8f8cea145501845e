import sys

from envparity.cli.main import main

sys.exit(main())
