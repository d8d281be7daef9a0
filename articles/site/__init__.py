"""What every page shares: roles and sign-in, the admin site, health, errors, the default rows."""
