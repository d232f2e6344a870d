"""Sites: a publisher's property (name, allowed origins, per-site settings, SSO keys)."""
