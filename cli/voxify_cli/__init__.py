"""`voxify`: the command line of a Voxify service, for people and scripts.

It speaks only the public HTTP API (`/api/v1`), with a token or API key kept in the user's
config dir, so it works the same against the local stack and a deployment.
"""
