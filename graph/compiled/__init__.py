"""The compiled execution path: supported queries answered without per-field resolvers."""
