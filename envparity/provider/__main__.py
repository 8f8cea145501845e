"""`python -m envparity.provider`: what the `pulumi-resource-render` launcher runs."""

from envparity.provider.server import main

raise SystemExit(main())
