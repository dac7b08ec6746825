"""LoRA adapter training and evaluation; the trained adapters live in sub-folders (PEFT format)."""
