"""The model: spaCy's pipeline, pre-annotation by workers or in process, and retraining on reviewed articles."""
