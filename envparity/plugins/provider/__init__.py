"""envparity's Pulumi resource provider for the `render` package's env-var resource.

It stands in for the community `pulumi-render` provider plugin, which cannot be built here
(its Go modules are refused by the module proxy; see docs/toolchain.md), and serves the
one resource envparity declares, `render:services:EnvVarsForService`, with the same token
and property names as the pinned `pulumi-render` SDK. Its version, 0.6.0-envparity.1, is
its own: the program asks for exactly that one (`envparity.stack.pinning`).
"""
