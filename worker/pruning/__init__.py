"""The pruning engine. The schema modules (hparams, training_config, errors, schedule, masks)
import no TensorFlow, so the API can validate with them; the TensorFlow parts are imported
only by the trainer's entry point."""
