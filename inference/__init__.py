"""Switchboard inference engine: continuous batching over one base model with many LoRA adapters."""
