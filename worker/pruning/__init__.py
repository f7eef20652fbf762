"""The pruning engine, run in the trainer subprocess (`python -m worker.pruning`). It imports
nothing of app/ or worker/. Its `contract` package (hparams, training config, errors, and the
rule book of which weights are prunable and which data fits a model) is plain Python, imported
by the API as well; the rest imports TensorFlow only in the trainer."""
