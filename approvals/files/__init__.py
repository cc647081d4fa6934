"""Artifact files: storage, media types, previews, thumbnails and the file views."""
