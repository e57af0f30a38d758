"""Training layer: LoRA fine-tuning (classification, SFT), run registry, model cards.

Reads snapshots and writes runs through :mod:`curation`. Built in the Training issue.
"""
