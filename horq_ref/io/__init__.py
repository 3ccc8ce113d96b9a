"""Files: training checkpoints and packed model files (``.npz`` read without pickle, written atomically)."""
