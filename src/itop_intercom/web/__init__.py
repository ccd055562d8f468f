"""HTTP plumbing shared by the routes: request guards and the access log."""
