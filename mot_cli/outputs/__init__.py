"""What people look at: an annotated video, MOTS text, a summary with a picture of the tracks.

Everything here is made from a finished run folder (its caches and manifest) and the source
video; no model runs.
"""
