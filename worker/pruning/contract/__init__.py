"""The engine's contract with the API: plain Python, no TensorFlow, no NumPy."""
