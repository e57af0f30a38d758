"""Application layer: the ``tuneloop`` CLI, the Streamlit review app, and the services they call."""
