"""What the API and the worker share: settings, the ORM and its sessions, blob storage, job
events, the queue's names, API keys. Imports nothing else of Shears."""
