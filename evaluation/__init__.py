"""Evaluation layer: held-out metrics, calibration, slices, rubric review, loop-back into review.

Built in the Evaluation issue; may load trained runs through :mod:`training`.
"""
