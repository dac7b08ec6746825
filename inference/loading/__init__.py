"""Model loading: local Hugging Face folders, the one-time default-model fetch, random-weight shapes."""
