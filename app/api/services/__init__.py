"""The work behind the routes: each function takes a session and the caller's tenant."""
