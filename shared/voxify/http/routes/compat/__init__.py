"""Routers serving the other specification documents' APIs (see voxify.http.compat)."""
