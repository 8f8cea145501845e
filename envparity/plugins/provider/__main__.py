"""`python -m envparity.plugins.provider`: what the `pulumi-resource-render` launcher runs."""

from envparity.plugins.provider.server import main

raise SystemExit(main())
