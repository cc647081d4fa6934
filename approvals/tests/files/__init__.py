"""Tests of artifact files: storage, previews, thumbnails, the file views (approvals/files/)."""
