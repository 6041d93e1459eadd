"""Shared math of the notes as small pure functions (tensors/arrays in, tensors/arrays out)."""
