"""The Celery worker and the trainer process it spawns.

Nothing here imports TensorFlow at import time: only the trainer subprocess does.
"""
