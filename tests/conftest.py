import echo  # noqa: F401  (selects the Keras backend before anything imports keras)
