"""Opening files in the app (background loader) and saved views."""
