"""HTTP plumbing shared by every domain: problem documents, middleware, dependencies, pages."""
